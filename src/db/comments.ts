import { and, asc, eq } from "drizzle-orm";
import { authorProfileColumns } from "./articles";
import type { Db } from "./client";
import { comments, users } from "./schema";

function commentColumns(viewerId: string | undefined) {
  return {
    id: comments.id,
    body: comments.body,
    authorId: comments.authorId,
    createdAt: comments.createdAt,
    updatedAt: comments.updatedAt,
    ...authorProfileColumns(viewerId),
  };
}

export type CommentRow = Awaited<ReturnType<typeof listCommentsQuery>>[number];

/** Oldest first, as a conversation reads. */
export const listCommentsQuery = (db: Db, postId: string, viewerId: string | undefined) =>
  db
    .select(commentColumns(viewerId))
    .from(comments)
    .innerJoin(users, eq(users.id, comments.authorId))
    .where(eq(comments.postId, postId))
    .orderBy(asc(comments.id));

export async function insertComment(db: Db, postId: string, authorId: string, body: string, now: string) {
  return db
    .insert(comments)
    .values({ postId, authorId, body, createdAt: now, updatedAt: now })
    .returning({ id: comments.id })
    .get();
}

export const findCommentQuery = (db: Db, postId: string, id: number, viewerId: string | undefined) =>
  db
    .select(commentColumns(viewerId))
    .from(comments)
    .innerJoin(users, eq(users.id, comments.authorId))
    .where(and(eq(comments.id, id), eq(comments.postId, postId)))
    .limit(1);

export async function deleteComment(db: Db, postId: string, id: number): Promise<boolean> {
  const deleted = await db
    .delete(comments)
    .where(and(eq(comments.id, id), eq(comments.postId, postId)))
    .returning({ id: comments.id })
    .get();
  return deleted !== undefined;
}
