import type { PostHit } from "../domain/search";
import { SEARCH_MAX_OFFSET } from "../domain/search";
import { toPostJson } from "../projections";

/** `limit + 1` hits from `offset` as a page: the extra one only says whether another page follows. */
export function toSearchPage(hits: PostHit[], limit: number, offset: number) {
  const next = offset + limit;
  return {
    data: hits.slice(0, limit).map((hit) => ({ ...toPostJson(hit), snippet: hit.snippet })),
    next_offset: hits.length > limit && next <= SEARCH_MAX_OFFSET ? next : null,
  };
}
