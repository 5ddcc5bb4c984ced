/**
 * Every KV key the read cache uses, in one place. Entries are stamped with the generation(s)
 * current when their D1 read started; a write bumps a generation instead of deleting entries, so
 * a fill that raced a write can never be served afterwards (its stamp is already old).
 */
export const cacheKeys = {
  /** Published post as anonymous callers see it. */
  post: (id: string) => `cache:post:${id}`,
  /** Bumped on every change to one post. */
  postGeneration: (id: string) => `cache:gen:post:${id}`,
  /** Bumped when an author's public profile changes (rename, deletion): posts embed the name. */
  authorsGeneration: () => "cache:gen:authors",
  /** A public list page, per normalised query. */
  list: (normalisedQuery: string) => `cache:list:${normalisedQuery}`,
  /** Bumped by any change that can alter any public list page. */
  listsGeneration: () => "cache:gen:lists",
} as const;

/** KV's minimum `expirationTtl` is 60 s. Correctness never depends on these, only memory. */
export const POST_CACHE_TTL_SECONDS = 300;
export const LIST_CACHE_TTL_SECONDS = 60;

/** What browsers and shared caches may keep; short, since they cannot be invalidated. */
export const PUBLIC_MAX_AGE_SECONDS = 30;

/** A KV call slower than this is treated as a failure: the request goes to D1 instead. */
export const KV_TIMEOUT_MS = 1000;
