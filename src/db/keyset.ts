import { type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { Cursor } from "../lib/cursor";

/**
 * Rows strictly after the cursor in `(created_at DESC, id DESC)` order. A row-value comparison,
 * so SQLite serves it as one range of the `(…, created_at, id)` index however deep the page is.
 */
export function afterCursor(createdAt: SQLiteColumn, id: SQLiteColumn, cursor: Cursor): SQL {
  return sql`(${createdAt}, ${id}) < (${cursor.createdAt}, ${cursor.id})`;
}
