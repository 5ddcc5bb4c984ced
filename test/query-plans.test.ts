import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  countArticlesQuery,
  favoritedPostIdsQuery,
  findArticleBySlugQuery,
  listArticlesQuery,
  popularTagsQuery,
} from "../src/db/articles";
import { createDb } from "../src/db/client";
import { findCommentQuery, listCommentsQuery } from "../src/db/comments";
import { findIdempotencyQuery } from "../src/db/idempotency";
import { claimTokenQuery, supersededTokensQuery, usableTokenQuery } from "../src/db/one-time-tokens";
import { findPostWithAuthorQuery, listPosts } from "../src/db/posts";
import { findProfileQuery } from "../src/db/profiles";
import { findRefreshTokenQuery } from "../src/db/refresh-tokens";
import { countSearchedArticlesQuery, searchArticlesQuery, searchPostsQuery } from "../src/db/search";
import { findUserByEmailQuery, findUserByIdQuery, listUsers } from "../src/db/users";
import type { PostScope } from "../src/domain/permissions";

const db = createDb(env.DB);
const cursor = { createdAt: "2026-11-27T00:00:00.000Z", id: "01a21ac5-0000-7000-8000-000000000000" };
const author = "01a21ac5-0000-7000-8000-000000000001";

type Query = { toSQL(): { sql: string; params: unknown[] } };

async function plan(query: Query): Promise<string[]> {
  const { sql, params } = query.toSQL();
  const rows = await env.DB.prepare(`explain query plan ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return rows.results.map((row) => row.detail);
}

const scopes: [string, PostScope][] = [
  ["anonymous", { kind: "published" }],
  ["user", { kind: "published-or-own", userId: author }],
  ["admin", { kind: "all" }],
];

const hotQueries: [string, Query][] = [
  ["post by id", findPostWithAuthorQuery(db, "x")],
  ["user by id", findUserByIdQuery(db, "x")],
  ["user by email", findUserByEmailQuery(db, "a@example.com")],
  ["refresh token by hash", findRefreshTokenQuery(db, "hash")],
  ["idempotency record", findIdempotencyQuery(db, author, "key", Date.now())],
  ["one-time token by hash", usableTokenQuery(db, "hash", "password_reset", cursor.createdAt)],
  ["one-time token claim", claimTokenQuery(db, "hash", "password_reset", cursor.createdAt)],
  ["one-time tokens superseded", supersededTokensQuery(db, author, "email_verification")],
  ["users page", listUsers(db, {}, undefined, 20)],
  ["users page after cursor", listUsers(db, {}, cursor, 20)],
  ["users by role", listUsers(db, { role: "admin" }, cursor, 20)],
  ["users by email prefix", listUsers(db, { emailPrefix: "ada" }, undefined, 20)],
  ["users by is_active", listUsers(db, { isActive: true }, cursor, 20)],
  ["users by role and is_active", listUsers(db, { role: "user", isActive: false }, cursor, 20)],
];
for (const [actor, scope] of scopes) {
  for (const status of [undefined, "published", "draft"] as const) {
    for (const authorId of [undefined, author]) {
      for (const after of [undefined, cursor]) {
        const name = `posts page: ${actor} status=${status ?? "-"} author=${authorId ? "yes" : "-"} cursor=${after ? "yes" : "-"}`;
        hotQueries.push([name, listPosts(db, scope, { status, authorId }, after, 20)]);
      }
    }
  }
}

describe("EXPLAIN QUERY PLAN of every hot query", () => {
  it.each(hotQueries)("%s uses an index, no full scan, no temp B-tree", async (name, query) => {
    const steps = await plan(query);
    const text = steps.join(" | ");
    expect(text, text).not.toMatch(/TEMP B-TREE/);
    for (const step of steps) {
      // A SCAN is only acceptable when it walks an index in the wanted order (and stops at LIMIT).
      if (/^SCAN /.test(step)) expect(step, text).toMatch(/USING (COVERING )?INDEX/);
    }
    expect(text, text).toMatch(/INDEX|PRIMARY KEY/);
    // One author's posts come from that author's index range, never from all posts of a status.
    if (name.includes("author=yes")) expect(text, text).toMatch(/posts_author_created_at_id_idx/);
    if (name.includes("author=yes")) expect(text, text).not.toMatch(/posts_status_created_at_id_idx/);
    // A page after a cursor starts inside the index (a range), not by skipping the rows before it.
    if (name.includes("cursor=yes") || name.includes("after cursor"))
      expect(text, text).toMatch(/\(created_at,id\)<\(\?,\?\)/);
  });
});

// The RealWorld surface's reads (src/db/articles.ts, profiles.ts, comments.ts).
const viewer = author;
const page = { offset: 0, limit: 20 };
const conduitQueries: [string, Query, RegExp[]][] = [
  ["article by slug", findArticleBySlugQuery(db, "a-slug", viewer), [/posts_slug_unique \(slug=\?\)/]],
  ["articles page", listArticlesQuery(db, {}, page, viewer), [/posts_status_created_at_id_idx \(status=\?\)/]],
  [
    "articles by tag",
    listArticlesQuery(db, { tag: "dragons" }, page, viewer),
    [/tags_name_unique \(name=\?\)/, /post_tags_tag_post_idx \(tag_id=\?\)/],
  ],
  [
    "articles by author",
    listArticlesQuery(db, { author: "jake" }, page, viewer),
    [/users_username_lower_unique \(<expr>=\?\)/, /posts_author_created_at_id_idx \(author_id=\?\)/],
  ],
  [
    "articles favorited by",
    listArticlesQuery(db, { favoritedBy: "jake" }, page, viewer),
    [/users_username_lower_unique \(<expr>=\?\)/, /favorites_1 \(user_id=\?\)/],
  ],
  ["feed", listArticlesQuery(db, { followedBy: viewer }, page, viewer), [/follows_1 \(follower_id=\?\)/]],
  ["articles count", countArticlesQuery(db, {}), [/COVERING INDEX posts_status_created_at_id_idx/]],
  ["articles count by tag", countArticlesQuery(db, { tag: "dragons" }), [/post_tags_tag_post_idx \(tag_id=\?\)/]],
  ["profile by username", findProfileQuery(db, "jake", viewer), [/users_username_lower_unique \(<expr>=\?\)/]],
  ["comments of an article", listCommentsQuery(db, "post", viewer), [/comments_post_id_idx \(post_id=\?\)/]],
  ["one comment", findCommentQuery(db, "post", 1, viewer), [/INTEGER PRIMARY KEY|comments_post_id_idx/]],
  ["favourites of a deleted account", favoritedPostIdsQuery(db, viewer, 100), [/favorites_1 \(user_id=\?\)/]],
];

describe("EXPLAIN QUERY PLAN of the RealWorld reads", () => {
  it.each(conduitQueries)("%s: named indexes, no full scan, no sort", async (_name, query, indexes) => {
    const text = (await plan(query)).join(" | ");
    expect(text, text).not.toMatch(/TEMP B-TREE/);
    // Pages walk an index in order and stop at LIMIT; nothing reads a whole table.
    expect(text, text).not.toMatch(/SCAN (posts|users|tags|post_tags|favorites|follows|comments)(?! USING)/);
    for (const index of indexes) expect(text, text).toMatch(index);
    // Counts and flags per row are correlated lookups on a key, not a query per row.
    if (text.includes("favorites_post_idx")) expect(text, text).toMatch(/favorites_post_idx \(post_id=\?\)/);
  });

  it("tag list: published posts' tags through their indexes (the grouping sorts; anonymous reads cache it)", async () => {
    const text = (await plan(popularTagsQuery(db, 100))).join(" | ");
    expect(text, text).toMatch(/COVERING INDEX posts_status_created_at_id_idx \(status=\?\)/);
    expect(text, text).toMatch(/post_tags_1 \(post_id=\?\)/);
    expect(text, text).not.toMatch(/SCAN (posts|tags|post_tags)(?! USING)/);
  });
});

// Full-text search (src/db/search.ts): every shape starts at the FTS5 index (a MATCH on
// posts_fts) and reaches each matching post by rowid; ranking sorts the matches (a temp B-tree
// over the hits only), never a scan of posts or an index of all posts of a status.
const searchQueries: [string, Query][] = [];
for (const [actor, scope] of scopes) {
  for (const status of [undefined, "published", "draft"] as const) {
    for (const authorId of [undefined, author]) {
      const name = `search: ${actor} status=${status ?? "-"} author=${authorId ? "yes" : "-"}`;
      searchQueries.push([
        name,
        searchPostsQuery(db, '"dragons"*', scope, { status, authorId }, { limit: 20, offset: 0 }),
      ]);
    }
  }
}
searchQueries.push(
  ["search articles", searchArticlesQuery(db, '"dragons"*', {}, page, viewer)],
  ["search articles by tag", searchArticlesQuery(db, '"dragons"*', { tag: "dragons" }, page, viewer)],
  ["search articles by author", searchArticlesQuery(db, '"dragons"*', { author: "jake" }, page, viewer)],
  ["search articles count", countSearchedArticlesQuery(db, '"dragons"*', {})],
);

describe("EXPLAIN QUERY PLAN of search", () => {
  it.each(searchQueries)("%s: the FTS index drives, posts by rowid", async (_name, query) => {
    const steps = await plan(query);
    const text = steps.join(" | ");
    expect(steps[0], text).toMatch(/^SCAN posts_fts VIRTUAL TABLE INDEX \d+:M/);
    expect(text, text).toMatch(/SEARCH posts USING INTEGER PRIMARY KEY \(rowid=\?\)/);
    expect(text, text).not.toMatch(/SCAN (posts|users)\b(?! USING)/);
    expect(text, text).not.toMatch(/posts_status_created_at_id_idx|posts_created_at_id_idx/);
  });
});
