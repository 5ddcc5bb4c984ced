import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { PostScope } from "../domain/permissions";
import { type ArticleFilter, articleColumns, listCondition } from "./articles";
import type { Db } from "./client";
import { type PostFilter, postWithAuthor, visibleCondition } from "./posts";
import { posts, users } from "./schema";

/**
 * The full-text index of posts (migrations/0006_post_search.sql): an FTS5 table whose content is
 * `posts` itself, kept exact by triggers. Declared here, not in schema.ts, because drizzle-kit
 * cannot create virtual tables; only queries use this declaration.
 */
export const postsFts = sqliteTable("posts_fts", {
  rowid: integer("rowid").notNull(),
  title: text("title").notNull(),
  content: text("content").notNull(),
});

/** Markers `snippet()` puts around each match; src/search/snippet.ts turns them into `<mark>`. */
export const SNIPPET_OPEN = "\u{E000}";
export const SNIPPET_CLOSE = "\u{E001}";
/** The best-matching column's excerpt of at most 16 tokens (FTS5 allows 1..64). */
const snippetOf = sql<string>`snippet(posts_fts, -1, ${SNIPPET_OPEN}, ${SNIPPET_CLOSE}, '…', 16)`;
/** bm25 weights per column: a match in the title counts ten times one in the content. */
const relevance = sql`bm25(posts_fts, 10, 1)`;

/**
 * The index drives: FTS5 finds the matching rowids, each is joined to its post by rowid (CROSS
 * JOIN keeps SQLite from starting at a posts index instead), and only then is visibility checked.
 */
function matches(expression: string): SQL {
  return and(sql`${postsFts} match ${expression}`, sql`${posts}.rowid = ${postsFts.rowid}`) as SQL;
}

export type SearchPage = { limit: number; offset: number };

/**
 * Matching posts the scope may see, best first (bm25, title above content), then newest first;
 * one row more than `limit` to tell whether another page follows.
 */
export function searchPostsQuery(db: Db, expression: string, scope: PostScope, filter: PostFilter, page: SearchPage) {
  return db
    .select({ ...postWithAuthor, snippet: snippetOf.as("snippet") })
    .from(postsFts)
    .crossJoin(posts)
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(and(matches(expression), visibleCondition(scope, filter)))
    .orderBy(relevance, desc(posts.createdAt), desc(posts.id))
    .limit(page.limit + 1)
    .offset(page.offset);
}

/** The RealWorld list's filters over the matching published posts, in the same order. */
export function searchArticlesQuery(
  db: Db,
  expression: string,
  filter: ArticleFilter,
  page: SearchPage,
  viewerId: string | undefined,
) {
  return db
    .select(articleColumns(viewerId))
    .from(postsFts)
    .crossJoin(posts)
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(and(matches(expression), listCondition(filter)))
    .orderBy(relevance, desc(posts.createdAt), desc(posts.id))
    .limit(page.limit)
    .offset(page.offset);
}

export const countSearchedArticlesQuery = (db: Db, expression: string, filter: ArticleFilter) =>
  db
    .select({ count: sql<number>`count(*)` })
    .from(postsFts)
    .crossJoin(posts)
    .where(and(matches(expression), listCondition(filter)));
