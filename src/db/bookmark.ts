/**
 * A D1 bookmark names a point in the database's history. D1 bookmarks sort lexicographically
 * from older to newer (D1 Time Travel docs), which is what lets two of them be compared here.
 */
export type D1Bookmark = string;

/** The newer of two bookmarks; undefined only when both are. */
export function newestBookmark(a: D1Bookmark | undefined, b: D1Bookmark | undefined): D1Bookmark | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a >= b ? a : b;
}

/** Whether `a` names a strictly later point than `b` (anything is later than nothing). */
export function isNewerBookmark(a: D1Bookmark, b: D1Bookmark | undefined): boolean {
  return b === undefined || a > b;
}
