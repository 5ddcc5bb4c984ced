import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { bodyEtag } from "../lib/etag";
import { sendJson } from "../lib/send-json";
import { setCacheHeaders } from "./http";
import { cacheKeys, LIST_CACHE_TTL_SECONDS, POST_CACHE_TTL_SECONDS } from "./keys";
import type { Remembered } from "./remembered";

/**
 * A list page, through the cache for anonymous callers. Everyone else may also see their own
 * drafts, so they BYPASS the cache, but still read D1 at least as fresh as the generations
 * record (a public write made at this location is visible to them at once). `normalisedQuery`
 * must name everything that shapes the page; `dependsOn` every generation that can change it.
 */
export async function serveList(
  c: Context<AppEnv>,
  normalisedQuery: string,
  dependsOn: readonly string[],
  load: () => Promise<unknown>,
): Promise<Response> {
  const { cache } = c.var;
  const shared = c.var.actor.kind === "anonymous";
  const key = cacheKeys.list(normalisedQuery);
  const lookup = shared ? await cache.lookup(key, dependsOn) : undefined;
  if (lookup?.kind === "hit") {
    setCacheHeaders(c, "HIT", true);
    return sendJson(c, lookup.entry.etag, lookup.entry.body);
  }
  if (!shared) await cache.raiseFloorFor(dependsOn);
  const body = JSON.stringify(await load());
  if (lookup?.kind === "miss") {
    const etag = await bodyEtag(body);
    cache.fill(key, lookup, { etag, body }, LIST_CACHE_TTL_SECONDS);
    setCacheHeaders(c, "MISS", true);
    return sendJson(c, etag, body);
  }
  setCacheHeaders(c, shared ? "MISS" : "BYPASS", shared);
  return sendJson(c, await bodyEtag(body), body);
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

/**
 * One public entity through the cache when its generations are only known from the data (the
 * article a slug names, the user a handle names): anonymous callers share the entry; everyone
 * else reads D1, at least as fresh as those generations record, so a write made at this location
 * shows at once either way. `remembered`, for values whose dependencies never change, lets a hit
 * read them in the entry's own KV round trip.
 */
export async function serveLearnt<T>(
  c: Context<AppEnv>,
  key: string,
  load: () => Promise<T>,
  dependsOn: (value: T) => readonly string[],
  render: (value: T) => unknown,
  remembered?: Remembered<readonly string[]>,
): Promise<Response> {
  const { cache } = c.var;
  const shared = c.var.actor.kind === "anonymous";
  const known = remembered?.get(key) ?? [];
  const lookup = shared ? await cache.lookup(key, known) : ({ kind: "miss", stamp: {} } as const);
  if (lookup.kind === "hit") {
    remembered?.set(key, lookup.dependsOn);
    setCacheHeaders(c, "HIT", true);
    return sendJson(c, lookup.entry.etag, lookup.entry.body);
  }
  const { value, stamp } = await cache.loadFresh(lookup, load, dependsOn);
  remembered?.set(key, dependsOn(value));
  const body = JSON.stringify(render(value));
  const etag = await bodyEtag(body);
  if (shared && lookup.kind === "miss" && stamp) cache.fill(key, lookup, { etag, body }, POST_CACHE_TTL_SECONDS, stamp);
  setCacheHeaders(c, shared ? "MISS" : "BYPASS", shared);
  return sendJson(c, etag, body);
}

/** A personal read (never cached) at least as fresh as the generations learnt from its data. */
export async function readFresh<T>(
  c: Context<AppEnv>,
  load: () => Promise<T>,
  dependsOn: (value: T) => readonly string[],
): Promise<T> {
  const { value } = await c.var.cache.loadFresh({ kind: "miss", stamp: {} }, load, dependsOn);
  return value;
}
