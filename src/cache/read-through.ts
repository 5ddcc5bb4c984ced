import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { bodyEtag, ifNoneMatchHits } from "../lib/etag";
import { setCacheHeaders } from "./http";
import { listGenerations } from "./invalidation";
import { cacheKeys, LIST_CACHE_TTL_SECONDS } from "./keys";
import type { CacheStatus } from "./public-cache";

/** Sends a serialised JSON body as-is (cached bodies are never parsed and re-serialised). */
export function sendJson(c: Context<AppEnv>, etag: string, body: string): Response {
  c.header("ETag", etag);
  if (ifNoneMatchHits(c.req.header("If-None-Match"), etag)) return c.body(null, 304);
  return c.body(body, 200, { "Content-Type": "application/json" });
}

/**
 * A list page through the cache. Only anonymous callers share pages (everyone else may also see
 * their own drafts), so authenticated callers BYPASS. `normalisedQuery` must name everything
 * that shapes the page.
 */
export async function servePublicList(
  c: Context<AppEnv>,
  normalisedQuery: string,
  load: () => Promise<unknown>,
): Promise<Response> {
  const cacheable = c.var.actor.kind === "anonymous";
  const key = cacheKeys.list(normalisedQuery);
  const lookup = cacheable ? await c.var.cache.lookup(key, listGenerations()) : undefined;
  if (lookup?.kind === "hit") {
    setCacheHeaders(c, "HIT", true);
    return sendJson(c, lookup.entry.etag, lookup.entry.body);
  }
  const body = JSON.stringify(await load());
  const etag = await bodyEtag(body);
  if (lookup?.kind === "miss") c.var.cache.fill(key, lookup.stamp, { etag, body }, LIST_CACHE_TTL_SECONDS);
  const status: CacheStatus = cacheable ? "MISS" : "BYPASS";
  setCacheHeaders(c, status, cacheable);
  return sendJson(c, etag, body);
}

/** Stable key text for a query: fixed parameter order, absent values left out. */
export function normaliseQuery(path: string, params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const name of Object.keys(params).sort()) {
    const value = params[name];
    if (value !== undefined) search.set(name, String(value));
  }
  return `${path}?${search.toString()}`;
}
