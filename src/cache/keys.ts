/**
 * Every KV key the read cache uses, in one place. Entries are stamped with the generations they
 * depend on; a write moves a generation on instead of deleting entries, so a fill that raced a
 * write can never be served afterwards (its stamp is already old). Generations are scoped to what
 * a write can change: one post, one author's profile, one author's public posts, all lists.
 */
export const cacheKeys = {
  /** Published post as anonymous callers see it. */
  post: (id: string) => `cache:post:${id}`,
  /** A public list page, per normalised query. */
  list: (normalisedQuery: string) => `cache:list:${normalisedQuery}`,
  /** A RealWorld article as anonymous callers see it, by slug. */
  article: (slug: string) => `cache:api:article:${slug}`,
  /**
   * A RealWorld profile as anonymous callers see it, by the handle exactly as asked: the key never
   * folds what the query does not fold the same way.
   */
  profile: (handle: string) => `cache:api:profile:${handle}`,
} as const;

export const generationKeys = {
  /** Any change to one post. */
  post: (id: string) => `cache:gen:post:${id}`,
  /** An author's public profile (rename, deletion): every post of theirs embeds the name. */
  author: (id: string) => `${AUTHOR_GENERATION}${id}`,
  /** The author a key made by `author` names, or undefined for any other key. */
  /**
   * Whom one user follows. Nothing is cached under it (the feed is personal); it only tells this
   * user's next reads how fresh D1 must be, so a follow shows in their feed at once.
   */
  follows: (userId: string) => `cache:gen:follows:${userId}`,
  /** The set or content of one author's public posts (their list pages). */
  authorPosts: (id: string) => `cache:gen:author-posts:${id}`,
  /**
   * Any change that can alter any page of the global list. KV takes one write per second per
   * key, and this is the one generation every public write moves, so it is spread over shards:
   * a write moves any one shard (another if that one is busy), a list page depends on all.
   */
  listShards: () => LIST_SHARD_KEYS,
} as const;

const AUTHOR_GENERATION = "cache:gen:author:";

/** Shards of the global list generation; together they absorb this many list bumps per second. */
export const LIST_GENERATION_SHARDS = 8;
const LIST_SHARD_KEYS: readonly string[] = Array.from(
  { length: LIST_GENERATION_SHARDS },
  (_, shard) => `cache:gen:lists:${shard}`,
);

/** KV's minimum `expirationTtl` is 60 s. Correctness never depends on these, only memory. */
export const POST_CACHE_TTL_SECONDS = 300;
export const LIST_CACHE_TTL_SECONDS = 60;

/** Generations must outlive every entry stamped with them. */
export const GENERATION_TTL_SECONDS = 2 * 60 * 60;

/** What browsers and shared caches may keep; short, since they cannot be invalidated. */
export const PUBLIC_MAX_AGE_SECONDS = 30;

/** A KV call slower than this is treated as a failure: the request goes to D1 instead. */
export const KV_TIMEOUT_MS = 1000;
