import { SNIPPET_CLOSE, SNIPPET_OPEN } from "../db/search";

/** What a snippet wraps each match in; everything else in it is HTML-escaped text. */
export const MATCH_OPEN = "<mark>";
export const MATCH_CLOSE = "</mark>";

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * A snippet as `snippet()` returns it (matches between private-use markers) turned into safe
 * HTML: the text escaped, each match in `<mark>…</mark>`. Markers that would not nest properly
 * (a post can itself contain those private-use characters) are dropped, so the result is always
 * balanced: hostile text can at worst misplace a highlight, never add markup.
 */
export function renderSnippet(raw: string): string {
  let open = false;
  let html = "";
  for (const char of raw) {
    if (char === SNIPPET_OPEN) {
      if (!open) html += MATCH_OPEN;
      open = true;
    } else if (char === SNIPPET_CLOSE) {
      if (open) html += MATCH_CLOSE;
      open = false;
    } else {
      html += ESCAPES[char] ?? char;
    }
  }
  return open ? html + MATCH_CLOSE : html;
}
