import { retiredByFavorite, writeThenRetire } from "../cache/invalidation";
import {
  type ArticleFilter,
  type ArticleRow,
  addFavorite,
  findArticleBySlug,
  listArticles,
  popularTagsQuery,
  removeFavorite,
} from "../db/articles";
import { NotFoundError } from "../errors";
import { isoNow } from "../lib/ids";
import type { DomainContext } from "./context";
import { can } from "./permissions";
import { createPost, deletePostForGood, editPost } from "./posts";
import { writeReferencing } from "./referencing-writes";
import { type Actor, ARTICLE_STATUS, type UserActor, viewerIdOf } from "./vocabulary";

/**
 * Articles: posts as the RealWorld surface shows them. Only published posts are articles; every
 * rule of posts (who may write, edit, delete, the write-then-invalidate sequence) is the one in
 * domain/posts.ts, called from here.
 */

export type ArticlePage = { offset: number; limit: number };
export type NewArticle = { title: string; description: string; body: string; tagList?: readonly string[] };
export type ArticleChanges = { title?: string; description?: string; body?: string; tagList?: readonly string[] };

/** Most tags `GET /api/tags` lists. */
export const POPULAR_TAGS_MAX = 100;

export function articleNotFound(slug: string): NotFoundError {
  return new NotFoundError("Article not found", { resource: "article", slug });
}

/**
 * A tag as stored and as looked up: trimmed and in Unicode NFC, so `Café` typed precomposed or
 * with a combining accent is one tag. (Invisible and control characters are refused by the
 * schema, src/schemas/conduit.ts.)
 */
export function tagKey(tag: string): string {
  return tag.trim().normalize("NFC");
}

/** Tags as stored: each once. */
function normaliseTags(tagList: readonly string[] | undefined): string[] | undefined {
  return tagList && [...new Set(tagList.map(tagKey))];
}

/** The published article with this slug, as the actor sees it; anything else does not exist. */
export async function findArticle(ctx: DomainContext, actor: Actor, slug: string): Promise<ArticleRow> {
  const article = await findArticleBySlug(ctx.db, slug, viewerIdOf(actor));
  if (article?.status !== ARTICLE_STATUS) throw articleNotFound(slug);
  return article;
}

export function listPublishedArticles(
  ctx: DomainContext,
  actor: Actor,
  filter: Omit<ArticleFilter, "followedBy">,
  page: ArticlePage,
) {
  const byTag = filter.tag === undefined ? filter : { ...filter, tag: tagKey(filter.tag) };
  return listArticles(ctx.db, byTag, page, viewerIdOf(actor));
}

/** Articles by the authors the user follows, newest first. */
export function feedOf(ctx: DomainContext, user: UserActor, page: ArticlePage) {
  return listArticles(ctx.db, { followedBy: user.id }, page, user.id);
}

export async function writeArticle(ctx: DomainContext, user: UserActor, input: NewArticle): Promise<ArticleRow> {
  const outcome = await createPost(ctx, user, {
    title: input.title,
    description: input.description,
    content: input.body,
    status: ARTICLE_STATUS,
    tags: normaliseTags(input.tagList) ?? [],
  });
  if (outcome.kind !== "created") throw new Error("an article is never created idempotently");
  return findArticle(ctx, user, outcome.post.post.slug);
}

export async function changeArticle(
  ctx: DomainContext,
  user: UserActor,
  slug: string,
  changes: ArticleChanges,
): Promise<ArticleRow> {
  const article = await findArticle(ctx, user, slug);
  const tags = normaliseTags(changes.tagList);
  await editPost(ctx, user, article.id, {
    ...(changes.title !== undefined ? { title: changes.title } : {}),
    ...(changes.description !== undefined ? { description: changes.description } : {}),
    ...(changes.body !== undefined ? { content: changes.body } : {}),
    ...(tags !== undefined ? { tags } : {}),
  });
  return findArticle(ctx, user, slug);
}

/**
 * Deleting an article: an admin removes the post; its author archives it (users archive instead
 * of deleting, as on `/v1`), which takes it off every RealWorld view. Anyone else: 403.
 */
export async function removeArticle(ctx: DomainContext, user: UserActor, slug: string): Promise<void> {
  const article = await findArticle(ctx, user, slug);
  if (can(user, "post:delete")) await deletePostForGood(ctx, user, article.id);
  else await editPost(ctx, user, article.id, { status: "archived" });
}

/** Favouriting changes the count every reader sees: the post's entry and list pages retire. */
async function setFavorite(ctx: DomainContext, user: UserActor, slug: string, favorite: boolean) {
  const article = await findArticle(ctx, user, slug);
  const write = () =>
    favorite ? addFavorite(ctx.db, user.id, article.id, isoNow()) : removeFavorite(ctx.db, user.id, article.id);
  await writeReferencing(
    ctx,
    user,
    () => writeThenRetire(ctx.cache, write, () => retiredByFavorite(article.id)),
    () => articleNotFound(slug),
  );
  return findArticle(ctx, user, slug);
}

export const favoriteArticle = (ctx: DomainContext, user: UserActor, slug: string) =>
  setFavorite(ctx, user, slug, true);
export const unfavoriteArticle = (ctx: DomainContext, user: UserActor, slug: string) =>
  setFavorite(ctx, user, slug, false);

export async function popularTags(ctx: DomainContext): Promise<string[]> {
  return (await popularTagsQuery(ctx.db, POPULAR_TAGS_MAX)).map((row) => row.name);
}
