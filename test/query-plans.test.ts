import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { findIdempotencyQuery } from "../src/db/idempotency";
import { claimTokenQuery, supersededTokensQuery, usableTokenQuery } from "../src/db/one-time-tokens";
import { findPostWithAuthorQuery, listPosts } from "../src/db/posts";
import { findRefreshTokenQuery } from "../src/db/refresh-tokens";
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
