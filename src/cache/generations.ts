import type { D1Bookmark } from "../db/bookmark";
import type { ReadFloor } from "../db/session";
import { newId } from "../lib/ids";

/**
 * A generation's value: unique per bump, followed by the primary's newest D1 bookmark when it was
 * moved (after the write it follows had committed), or `primary` when that could not be read. A
 * fill that depends on a generation reads D1 at least that fresh, so a replica that has not yet
 * applied the write cannot refill the entry the write retired; and since the bookmark covers
 * every earlier commit, a bump that overwrites a concurrent one covers that one's write too.
 */
export type GenerationValue = string;

/** A generation that was never moved (or expired): nothing to be fresher than. */
export const UNMOVED = "0";

const PRIMARY = "primary";

export function newGenerationValue(writeBookmark: D1Bookmark | undefined): GenerationValue {
  return `${newId()} ${writeBookmark ?? PRIMARY}`;
}

/** The floor a fill depending on these generations must read at (undefined: no constraint). */
export function floorOf(values: Iterable<GenerationValue>): ReadFloor | undefined {
  let newest: D1Bookmark | undefined;
  for (const value of values) {
    if (value === UNMOVED) continue;
    const bookmark = value.slice(value.indexOf(" ") + 1);
    if (bookmark === PRIMARY || bookmark === value) return { kind: "primary" };
    if (newest === undefined || bookmark > newest) newest = bookmark;
  }
  return newest === undefined ? undefined : { kind: "bookmark", bookmark: newest };
}
