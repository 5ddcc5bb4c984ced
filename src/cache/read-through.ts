import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { NotFoundError } from "../errors";
import { type Cursor, encodeCursor } from "../lib/cursor";
import { sha256Hex } from "../lib/encoding";
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

/** A value of a validated query, as it may appear in a list's cache key. */
type QueryValue = string | number | boolean | Cursor | undefined;

/**
 * Stable key text for a validated query: every field of it, in a fixed order, absent values left
 * out. Callers pass the whole validated query, so a filter added to a schema is in the key
 * without anyone remembering to add it (pages of two filters never share an entry).
 */
export function normaliseQuery(path: string, query: Readonly<Record<string, QueryValue>>): string {
  const search = new URLSearchParams();
  for (const name of Object.keys(query).sort()) {
    const value = query[name];
    if (value === undefined) continue;
    search.set(name, typeof value === "object" ? encodeCursor(value) : String(value));
  }
  return `${path}?${search.toString()}`;
}

/** How one item is served through the read cache (`serveItem`). */
export type ItemReadThrough<T> = {
  key: string;
  /** Generations known before the data is read: looked up in the entry's own KV round trip. */
  known: readonly string[];
  load: () => Promise<T>;
  /** Every generation the value depends on, learnt from it (its author, say). */
  dependsOn: (value: T) => readonly string[];
  render: (value: T) => unknown;
  /**
   * Who may be served the shared entry: `anyone` when the item looks the same to every caller (a
   * `/v1` post), `anonymous` when it carries per-viewer fields (a RealWorld article's `favorited`).
   */
  sharedWith: "anyone" | "anonymous";
  /** Whether this value may be shared at all (a published post, not a draft). Default: yes. */
  isPublic?: (value: T) => boolean;
  /** The ETag; default: a hash of the body. */
  etag?: (value: T) => string;
  /** For entries whose dependencies never change: remembered per isolate by key. */
  remembered?: Remembered<readonly string[]>;
};

/**
 * One item through the cache. A caller it may be shared with gets the entry when it is current;
 * on a miss (and for everyone else) the item is read from D1 at least as fresh as its generations
 * record, so a write made at this location shows at once either way, and a shareable value fills
 * the entry. The remembered dependencies let a hit read every generation with the entry.
 */
export async function serveItem<T>(c: Context<AppEnv>, item: ItemReadThrough<T>): Promise<Response> {
  const { cache } = c.var;
  const shared = item.sharedWith === "anyone" || c.var.actor.kind === "anonymous";
  const known = item.remembered?.get(item.key) ?? item.known;
  const lookup = shared ? await cache.lookup(item.key, known) : ({ kind: "miss", stamp: {} } as const);
  if (lookup.kind === "hit") {
    item.remembered?.set(item.key, lookup.dependsOn);
    setCacheHeaders(c, "HIT", true);
    return sendJson(c, lookup.entry.etag, lookup.entry.body);
  }
  const { value, stamp } = await cache.loadFresh(lookup, confirmedOnPrimary(c, item.load), item.dependsOn);
  item.remembered?.set(item.key, [...new Set([...item.known, ...item.dependsOn(value)])]);
  const body = JSON.stringify(item.render(value));
  const etag = item.etag ? item.etag(value) : await bodyEtag(body);
  const isPublic = shared && (item.isPublic?.(value) ?? true);
  if (isPublic && lookup.kind === "miss" && stamp) {
    cache.fill(item.key, lookup, { etag, body }, POST_CACHE_TTL_SECONDS, stamp);
  }
  setCacheHeaders(c, isPublic ? "MISS" : "BYPASS", isPublic);
  return sendJson(c, etag, body);
}

/**
 * A single item that is not found where this request read is confirmed on the primary before
 * the 404: a replica that lags must not hide a post or article that exists (its author, say,
 * reading a new article without a token or bookmark).
 */
function confirmedOnPrimary<T>(c: Context<AppEnv>, load: () => Promise<T>): () => Promise<T> {
  return async () => {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof NotFoundError) || c.var.session.readsPrimary()) throw error;
      c.var.session.raiseFloor({ kind: "primary" });
      return load();
    }
  };
}

/** A personal read (never cached) at least as fresh as the generations learnt from its data. */
export async function readFresh<T>(
  c: Context<AppEnv>,
  load: () => Promise<T>,
  dependsOn: (value: T) => readonly string[],
): Promise<T> {
  const { value } = await c.var.cache.loadFresh({ kind: "miss", stamp: {} }, confirmedOnPrimary(c, load), dependsOn);
  return value;
}

/** KV refuses keys over 512 bytes; the list key prefix and some room stay within it. */
const LIST_QUERY_MAX_BYTES = 400;

/**
 * A normalised query short enough for a KV key: as it is, or its path and a SHA-256 of the whole
 * when free text (a search) makes it long. Either way it names everything that shapes the page.
 */
export async function boundedQueryKey(normalisedQuery: string): Promise<string> {
  if (new TextEncoder().encode(normalisedQuery).length <= LIST_QUERY_MAX_BYTES) return normalisedQuery;
  const path = normalisedQuery.slice(0, normalisedQuery.indexOf("?"));
  return `${path}#sha256=${await sha256Hex(normalisedQuery)}`;
}
