import { and, desc, eq, lt, or, type SQL, sql } from "drizzle-orm";
import type { Cursor } from "../lib/cursor";
import type { PostScope } from "../permissions";
import type { PostWithAuthor } from "../projections";
import type { Db } from "./client";
import { type PostRow, type PostStatus, posts, users } from "./schema";

const postWithAuthor = { post: posts, authorName: users.name };

/** One query: the post and its author's public name. */
export async function findPostWithAuthor(db: Db, id: string): Promise<PostWithAuthor | undefined> {
  return db
    .select(postWithAuthor)
    .from(posts)
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(eq(posts.id, id))
    .get();
}

/** The SQL twin of `canSeePost`: both derive from the same `PostScope`. */
function scopeCondition(scope: PostScope): SQL | undefined {
  switch (scope.kind) {
    case "all":
      return undefined;
    case "published-or-own":
      return or(eq(posts.status, "published"), eq(posts.authorId, scope.userId));
    case "published":
      return eq(posts.status, "published");
  }
}

export type PostFilter = { status?: PostStatus; authorId?: string };

/**
 * Newest first by `(created_at, id)`; fetches one extra row to know whether a next page exists.
 * Returns the query, so it can be awaited or sent in a `db.batch`.
 */
export function listPosts(db: Db, scope: PostScope, filter: PostFilter, cursor: Cursor | undefined, limit: number) {
  const conditions = [
    scopeCondition(scope),
    filter.status ? eq(posts.status, filter.status) : undefined,
    filter.authorId ? eq(posts.authorId, filter.authorId) : undefined,
    cursor
      ? or(lt(posts.createdAt, cursor.createdAt), and(eq(posts.createdAt, cursor.createdAt), lt(posts.id, cursor.id)))
      : undefined,
  ];
  return db
    .select(postWithAuthor)
    .from(posts)
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(and(...conditions))
    .orderBy(desc(posts.createdAt), desc(posts.id))
    .limit(limit + 1);
}

/** An author's posts and whether the author exists, in one D1 round trip. */
export async function listPostsOfAuthor(
  db: Db,
  scope: PostScope,
  authorId: string,
  status: PostStatus | undefined,
  cursor: Cursor | undefined,
  limit: number,
): Promise<PostWithAuthor[] | undefined> {
  const [author, rows] = await db.batch([
    db.select({ id: users.id }).from(users).where(eq(users.id, authorId)),
    listPosts(db, scope, { status, authorId }, cursor, limit),
  ]);
  return author.length > 0 ? rows : undefined;
}

export type PostChanges = { title?: string; content?: string; status?: PostStatus };

/**
 * Applies changes and bumps `version` in one statement. With `expectedVersion` the update only
 * happens if nobody changed the post since (If-Match); `published_at` is set on first publish.
 */
export async function updatePost(
  db: Db,
  id: string,
  changes: PostChanges,
  expectedVersion: number | undefined,
  now: string,
): Promise<PostRow | undefined> {
  return db
    .update(posts)
    .set({
      ...changes,
      updatedAt: now,
      version: sql`${posts.version} + 1`,
      ...(changes.status === "published" ? { publishedAt: sql`coalesce(${posts.publishedAt}, ${now})` } : {}),
    })
    .where(and(eq(posts.id, id), expectedVersion === undefined ? undefined : eq(posts.version, expectedVersion)))
    .returning()
    .get();
}

export async function deletePost(db: Db, id: string): Promise<boolean> {
  const deleted = await db.delete(posts).where(eq(posts.id, id)).returning({ id: posts.id }).get();
  return deleted !== undefined;
}
