import { retiredByComment, writeThenRetire } from "../cache/invalidation";
import { type CommentRow, deleteComment, findCommentQuery, insertComment, listCommentsQuery } from "../db/comments";
import { NotFoundError } from "../errors";
import { isoNow } from "../lib/ids";
import { articleNotFound, findArticle } from "./articles";
import type { DomainContext } from "./context";
import { authorize } from "./permissions";
import { writeReferencing } from "./referencing-writes";
import { type Actor, type UserActor, viewerIdOf } from "./vocabulary";

/** Comments on articles: readable wherever the article is; written by users and admins. */

function commentNotFound(id: number): NotFoundError {
  return new NotFoundError("Comment not found", { resource: "comment", id });
}

/** The article and its comments, oldest first. */
export async function commentsOn(ctx: DomainContext, actor: Actor, slug: string) {
  const article = await findArticle(ctx, actor, slug);
  return { article, comments: await listCommentsQuery(ctx.db, article.id, viewerIdOf(actor)) };
}

export async function addComment(ctx: DomainContext, user: UserActor, slug: string, body: string): Promise<CommentRow> {
  authorize(user, "comment:create", "Your role may not comment");
  const article = await findArticle(ctx, user, slug);
  const inserted = await writeReferencing(
    ctx,
    user,
    () =>
      writeThenRetire(
        ctx.cache,
        () => insertComment(ctx.db, article.id, user.id, body, isoNow()),
        () => retiredByComment(article.id),
      ),
    () => articleNotFound(slug),
  );
  const [comment] = await findCommentQuery(ctx.db, article.id, inserted.id, user.id);
  if (!comment) throw commentNotFound(inserted.id);
  return comment;
}

/** Its author may delete a comment, and so may an admin. */
export async function removeComment(ctx: DomainContext, user: UserActor, slug: string, id: number): Promise<void> {
  const article = await findArticle(ctx, user, slug);
  const [comment] = await findCommentQuery(ctx.db, article.id, id, user.id);
  if (!comment) throw commentNotFound(id);
  if (comment.authorId !== user.id) authorize(user, "comment:delete:any", "You may not delete this comment");
  const deleted = await writeThenRetire(
    ctx.cache,
    () => deleteComment(ctx.db, article.id, id),
    () => retiredByComment(article.id),
  );
  if (!deleted) throw commentNotFound(id);
}
