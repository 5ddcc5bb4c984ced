import type { PostStatus } from "../db/schema";
import { cacheKeys } from "./keys";
import type { PublicCache } from "./public-cache";

/** Generations a cached single post depends on. */
export const postGenerations = (id: string) => [cacheKeys.postGeneration(id), cacheKeys.authorsGeneration()] as const;

/** Generations a cached list page depends on. */
export const listGenerations = () => [cacheKeys.listsGeneration()] as const;

/**
 * After any write to a post. Lists only change when the post is, or was, public; the post's own
 * entry is retired either way (it costs one KV write and keeps the rule simple).
 */
export function afterPostWrite(
  cache: PublicCache,
  id: string,
  statusBefore: PostStatus | null,
  statusAfter: PostStatus | null,
): Promise<void> {
  const touchesPublic = statusBefore === "published" || statusAfter === "published";
  return cache.bump(
    touchesPublic ? [cacheKeys.postGeneration(id), cacheKeys.listsGeneration()] : [cacheKeys.postGeneration(id)],
  );
}

/** After an author's public profile changed (rename) or the author and its posts went away. */
export function afterAuthorChange(cache: PublicCache): Promise<void> {
  return cache.bump([cacheKeys.authorsGeneration(), cacheKeys.listsGeneration()]);
}
