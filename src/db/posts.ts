import { and, desc, eq, getTableColumns, ne, or, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { unionAll } from "drizzle-orm/sqlite-core";
import type { PostScope } from "../domain/permissions";
import type { PostStatus } from "../domain/vocabulary";
import type { Cursor } from "../lib/cursor";
import { pruneTagsOfPostQuery } from "./articles";
import type { Db } from "./client";
import { afterCursor } from "./keyset";
import { type PostRow, posts, users } from "./schema";

/** A post as the queries here return it: the row and its author's name. */
export type PostWithAuthor = { post: PostRow; authorName: string };

export const postWithAuthor = { post: posts, authorName: users.name };

export const findPostWithAuthorQuery = (db: Db, id: string) =>
  db.select(postWithAuthor).from(posts).innerJoin(users, eq(users.id, posts.authorId)).where(eq(posts.id, id)).limit(1);

/** One query: the post and its author's public name. */
export async function findPostWithAuthor(db: Db, id: string): Promise<PostWithAuthor | undefined> {
  return (await findPostWithAuthorQuery(db, id))[0];
}
export type PostFilter = { status?: PostStatus; authorId?: string };

/** One index-friendly AND: an optional author, statuses that must all hold, a status to leave out. */
type Arm = { authorId?: string | undefined; statuses: PostStatus[]; excludeStatus?: PostStatus };

/**
 * The SQL twin of `canSeePost` (both derive from `PostScope`), merged with the filter, as
 * disjoint arms whose union is what the caller may see. Each arm is served by one index in
 * `(created_at, id)` order; `published OR own` would instead force SQLite to sort every match.
 */
function visibleArms(scope: PostScope, filter: PostFilter): Arm[] {
  const wanted = filter.status ? [filter.status] : [];
  switch (scope.kind) {
    case "all":
      return [{ authorId: filter.authorId, statuses: wanted }];
    case "published":
      return [{ authorId: filter.authorId, statuses: ["published", ...wanted] }];
    case "published-or-own": {
      const me = scope.userId;
      if (filter.authorId === me) return [{ authorId: me, statuses: wanted }];
      if (filter.authorId !== undefined) return [{ authorId: filter.authorId, statuses: ["published", ...wanted] }];
      if (filter.status === "published") return [{ statuses: ["published"] }];
      if (filter.status !== undefined) return [{ authorId: me, statuses: wanted }];
      return [{ statuses: ["published"] }, { authorId: me, statuses: [], excludeStatus: "published" }];
    }
  }
}

function armCondition(arm: Arm, cursor: Cursor | undefined): SQL | undefined {
  return and(
    arm.authorId !== undefined ? eq(posts.authorId, arm.authorId) : undefined,
    // With an author, `+status` keeps SQLite off the status index: one author's
    // (author_id, created_at, id) range is small, all posts of one status are not.
    ...arm.statuses.map((status) =>
      arm.authorId !== undefined ? sql`+${posts.status} = ${status}` : eq(posts.status, status),
    ),
    arm.excludeStatus !== undefined ? ne(posts.status, arm.excludeStatus) : undefined,
    cursor ? afterCursor(posts.createdAt, posts.id, cursor) : undefined,
  );
}

/** The same visibility as one condition, for queries that do not walk `(created_at, id)` (search). */
export function visibleCondition(scope: PostScope, filter: PostFilter): SQL | undefined {
  return or(...visibleArms(scope, filter).map((arm) => armCondition(arm, undefined)));
}

/** Output positions of `created_at` and `id` in `postWithAuthor`, for ordering a union. */
const POST_COLUMNS = Object.keys(getTableColumns(posts));
const CREATED_AT_POSITION = POST_COLUMNS.indexOf("createdAt") + 1;
const ID_POSITION = POST_COLUMNS.indexOf("id") + 1;

/**
 * Newest first by `(created_at, id)`; fetches one extra row to know whether a next page exists.
 * Returns the query, so it can be awaited or sent in a `db.batch`.
 */
export function listPosts(db: Db, scope: PostScope, filter: PostFilter, cursor: Cursor | undefined, limit: number) {
  const select = (arm: Arm) =>
    db
      .select(postWithAuthor)
      .from(posts)
      .innerJoin(users, eq(users.id, posts.authorId))
      .where(armCondition(arm, cursor));
  const [first, second] = visibleArms(scope, filter);
  if (!first || !second) {
    return select(first ?? { statuses: [] })
      .orderBy(desc(posts.createdAt), desc(posts.id))
      .limit(limit + 1);
  }
  // Each arm walks its own index in order and SQLite merges them (MERGE UNION ALL): no sort.
  return unionAll(select(first), select(second))
    .orderBy(sql.raw(`${CREATED_AT_POSITION} desc`), sql.raw(`${ID_POSITION} desc`))
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

export type PostChanges = { title?: string; content?: string; description?: string; status?: PostStatus };

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
  alongside: BatchItem<"sqlite">[] = [],
): Promise<PostRow | undefined> {
  const update = db
    .update(posts)
    .set({
      ...changes,
      updatedAt: now,
      version: sql`${posts.version} + 1`,
      ...(changes.status === "published" ? { publishedAt: sql`coalesce(${posts.publishedAt}, ${now})` } : {}),
    })
    .where(and(eq(posts.id, id), expectedVersion === undefined ? undefined : eq(posts.version, expectedVersion)))
    .returning();
  if (alongside.length === 0) return (await update)[0];
  const [rows] = await db.batch([update, ...alongside]);
  return rows[0];
}

/** Deletes a post, and the tags only it had (db/articles.ts), in one batch. */
export async function deletePost(db: Db, id: string): Promise<boolean> {
  const [, deleted] = await db.batch([
    pruneTagsOfPostQuery(db, id),
    db.delete(posts).where(eq(posts.id, id)).returning({ id: posts.id }),
  ]);
  return deleted.length > 0;
}
