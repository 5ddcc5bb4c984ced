import { encodeCursor } from "./cursor";

/**
 * Turns `limit + 1` rows into a page: the extra row only says whether there is a next page, and
 * the cursor points after the last row shown.
 */
export function toPage<Row, Item>(
  rows: Row[],
  limit: number,
  position: (row: Row) => { createdAt: string; id: string },
  project: (row: Row) => Item,
): { data: Item[]; next_cursor: string | null } {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    data: shown.map(project),
    next_cursor: rows.length > limit && last ? encodeCursor(position(last)) : null,
  };
}
