import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { ifNoneMatchHits } from "./etag";

/**
 * Sends an already serialised JSON body as-is (cached bodies are never parsed and
 * re-serialised) with its validator; a matching `If-None-Match` gets a 304 instead.
 */
export function sendJson(c: Context<AppEnv>, etag: string, body: string): Response {
  c.header("ETag", etag);
  if (ifNoneMatchHits(c.req.header("If-None-Match"), etag)) return c.body(null, 304);
  return c.body(body, 200, { "Content-Type": "application/json" });
}
