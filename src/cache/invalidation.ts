import type { PostStatus } from "../domain/vocabulary";
import { generationKeys } from "./keys";
import type { GenerationTarget, PublicCache } from "./public-cache";

/**
 * Which generations each cached representation depends on, and which ones each kind of write
 * moves. The two halves must agree; the edge simulation (test/sim/) checks that they do.
 */
export const dependencies = {
  /** A single post; its author's profile too when already known (else it is learnt at fill time). */
  post: (id: string, authorId?: string) =>
    authorId === undefined ? [generationKeys.post(id)] : [generationKeys.post(id), generationKeys.author(authorId)],
  /** Learnt from the post itself: the author whose name it embeds. */
  postAuthor: (authorId: string) => [generationKeys.author(authorId)],
  /** A page of `GET /v1/posts`. */
  globalList: () => generationKeys.listShards(),
  /** A page of `GET /v1/users/:id/posts`. */
  authorList: (authorId: string) => [generationKeys.authorPosts(authorId), generationKeys.author(authorId)],
  /** A RealWorld article (learnt from it): the post with its counts and comments, and its author. */
  article: (postId: string, authorId: string) => [generationKeys.post(postId), generationKeys.author(authorId)],
  /** A RealWorld profile (learnt from it). */
  profile: (userId: string) => [generationKeys.author(userId)],
  /** A user's feed: any public post write, and whom they follow. */
  feed: (userId: string) => [...generationKeys.listShards(), generationKeys.follows(userId)],
} as const;

/** A write whose effect is known, or one that may or may not have committed (a lost ack). */
export type WriteResult<T> = { kind: "committed"; value: T } | { kind: "unknown" };

/**
 * What a write to a post retires. Lists only change when the post is, or was, public; when the
 * outcome is unknown, everything it might have changed.
 */
export function retiredByPostWrite(
  post: { id: string; authorId: string },
  statusBefore: PostStatus | null,
  statusAfter: PostStatus | null | "unknown",
): GenerationTarget[] {
  const touchesPublic = statusBefore === "published" || statusAfter === "published" || statusAfter === "unknown";
  const own: GenerationTarget = [generationKeys.post(post.id)];
  return touchesPublic ? [own, [generationKeys.authorPosts(post.authorId)], generationKeys.listShards()] : [own];
}

/** A new post of this author may have appeared (a create whose invalidation is being redone). */
export function retiredByNewPostOf(authorId: string): GenerationTarget[] {
  return [[generationKeys.authorPosts(authorId)], generationKeys.listShards()];
}

/** A favourite changes the post's count, in its own entry and on list pages (`favorited=` too). */
export function retiredByFavorite(postId: string): GenerationTarget[] {
  return [[generationKeys.post(postId)], generationKeys.listShards()];
}

/** Favourites that went at once (their account was deleted): each post's count changed. */
export function retiredByFavoritesGone(postIds: readonly string[]): GenerationTarget[] {
  return postIds.map((postId) => [generationKeys.post(postId)]);
}

/** A comment written or removed: read with the post's generation, so it shows at once here. */
export function retiredByComment(postId: string): GenerationTarget[] {
  return [[generationKeys.post(postId)]];
}

/** A follow or unfollow: only the follower's own feed changes. */
export function retiredByFollow(followerId: string): GenerationTarget[] {
  return [[generationKeys.follows(followerId)]];
}

/** An author's public profile changed (rename) or the author and its posts went away. */
export function retiredByAuthorChange(authorId: string): GenerationTarget[] {
  return [[generationKeys.author(authorId)], generationKeys.listShards()];
}

/**
 * The write-then-invalidate sequence, in one place: run the D1 write, then move the generations
 * it retires before answering. A write that failed may still have committed (D1 lost the
 * acknowledgement), so its generations move too, marked so that fills read the primary.
 */
export async function writeThenRetire<T>(
  cache: PublicCache,
  write: () => Promise<T>,
  retired: (result: WriteResult<T>) => GenerationTarget[],
): Promise<T> {
  let value: T;
  try {
    value = await write();
  } catch (error) {
    await cache.bump(retired({ kind: "unknown" }), "unknown");
    throw error;
  }
  const targets = retired({ kind: "committed", value });
  if (targets.length > 0) await cache.bump(targets, "committed");
  return value;
}
