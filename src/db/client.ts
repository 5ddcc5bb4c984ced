import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

/** Drizzle over a D1 database or a D1 session (both speak the same prepare/batch API). */
export function createDb(d1: D1Database): Db {
  return drizzle(d1, { schema });
}
