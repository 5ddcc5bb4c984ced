import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import type { D1Like } from "./resilient-d1";

/**
 * Query-builder Drizzle, without the relational `db.query` API: passing `{ schema }` would make
 * every `drizzle()` call (one per request) rebuild the relations config.
 */
export type Db = DrizzleD1Database;

/** Drizzle over a D1 database or a D1 session (both speak the same prepare/batch API). */
export function createDb(d1: D1Like): Db {
  // Drizzle only calls prepare() and batch(), which a session has too.
  return drizzle(d1 as D1Database);
}
