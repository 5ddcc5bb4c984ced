import type { ArticleFilter, ArticleRow } from "../db/articles";
import type { PostFilter, PostWithAuthor } from "../db/posts";
import { countSearchedArticlesQuery, type SearchPage, searchArticlesQuery, searchPostsQuery } from "../db/search";
import { ftsExpression } from "../search/fts-expression";
import { renderSnippet } from "../search/snippet";
import { tagKey } from "./articles";
import type { DomainContext } from "./context";
import { postScope } from "./permissions";
import { type Actor, viewerIdOf } from "./vocabulary";

/**
 * Full-text search (docs/search.md): the same visibility as the lists, ranked by relevance.
 * Ranking does not follow an index order, so pages are offsets, bounded: a deep offset would make
 * SQLite rank and skip that many hits on every request.
 */
export const SEARCH_TEXT_MAX = 200;
export const SEARCH_MAX_OFFSET = 1000;

export type PostHit = PostWithAuthor & { snippet: string };

/** A page of matching posts the actor may see (one more than `limit`, to tell whether more follow). */
export async function searchVisiblePosts(
  ctx: DomainContext,
  actor: Actor,
  text: string,
  filter: PostFilter,
  page: SearchPage,
): Promise<PostHit[]> {
  const expression = ftsExpression(text);
  if (expression === undefined) return [];
  const rows = await searchPostsQuery(ctx.db, expression, postScope(actor), filter, page);
  return rows.map(({ snippet, ...row }) => ({ ...row, snippet: renderSnippet(snippet) }));
}

/** `/api/articles?search=`: the RealWorld list's filters over matching published posts, and their total. */
export async function searchPublishedArticles(
  ctx: DomainContext,
  actor: Actor,
  text: string,
  filter: Omit<ArticleFilter, "followedBy">,
  page: SearchPage,
): Promise<{ rows: ArticleRow[]; total: number }> {
  const expression = ftsExpression(text);
  if (expression === undefined) return { rows: [], total: 0 };
  const byTag = filter.tag === undefined ? filter : { ...filter, tag: tagKey(filter.tag) };
  const { db } = ctx;
  const [rows, count] = await db.batch([
    searchArticlesQuery(db, expression, byTag, page, viewerIdOf(actor)),
    countSearchedArticlesQuery(db, expression, byTag),
  ]);
  return { rows, total: count[0]?.count ?? 0 };
}
