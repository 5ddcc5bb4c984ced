import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { PUBLIC_MAX_AGE_SECONDS } from "./keys";
import type { CacheStatus } from "./public-cache";

/**
 * Caching headers of a GET. Only anonymous responses of public resources are `public`; anything
 * answered to a bearer token is `private, no-store`, and `Vary: Authorization` keeps the two apart.
 */
export function setCacheHeaders(c: Context<AppEnv>, status: CacheStatus, isPublic: boolean): void {
  c.var.log.cache = status;
  c.header("X-Cache", status);
  c.header("Vary", "Authorization", { append: true });
  const shareable = isPublic && c.var.actor.kind === "anonymous";
  c.header("Cache-Control", shareable ? `public, max-age=${PUBLIC_MAX_AGE_SECONDS}` : "private, no-store");
}
