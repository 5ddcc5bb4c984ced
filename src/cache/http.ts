import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { PUBLIC_MAX_AGE_SECONDS } from "./keys";
import type { CacheStatus } from "./public-cache";

/**
 * Caching headers of a GET. Only anonymous responses of public resources are `public`; anything
 * answered to a bearer token is `private, no-store`, and `Vary: Authorization` keeps the two apart.
 */
export function setCacheHeaders<E extends AppEnv>(c: Context<E>, status: CacheStatus, isPublic: boolean): void {
  // Every E here extends AppEnv, so its variables hold AppEnv's.
  const { log, actor } = c.var as AppEnv["Variables"];
  log.cache = status;
  c.header("X-Cache", status);
  c.header("Vary", "Authorization", { append: true });
  const shareable = isPublic && actor.kind === "anonymous";
  c.header("Cache-Control", shareable ? `public, max-age=${PUBLIC_MAX_AGE_SECONDS}` : "private, no-store");
}
