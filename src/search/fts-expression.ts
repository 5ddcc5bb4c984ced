/**
 * Turns a user's search text into an FTS5 query expression that can only mean "all of these
 * words, the last one as a prefix". The text is never FTS5 syntax: every word becomes a quoted
 * string (a `"` inside is doubled), so `OR`, `NEAR`, `column:`, `*`, `^` and parentheses are
 * just characters to the tokenizer. Words with no letter or digit are dropped, because a quoted
 * string without a token matches nothing; text with no word at all gives `undefined` (nothing to
 * search for, an empty page).
 */
export function ftsExpression(text: string): string | undefined {
  const words = text
    .normalize("NFKC")
    // Control characters separate words too: a NUL would end the string early inside SQLite.
    .split(/[\s\p{Cc}]+/u)
    .filter((word) => WORD_CHARACTER.test(word))
    .slice(0, MAX_SEARCH_WORDS);
  if (words.length === 0) return undefined;
  const quoted = words.map((word) => `"${word.replaceAll('"', '""')}"`);
  // Search as you type: the last word may be unfinished.
  return `${quoted.join(" ")}*`;
}

/** What the `unicode61` tokenizer keeps as part of a token: letters, digits, private use. */
const WORD_CHARACTER = /[\p{L}\p{N}\p{Co}]/u;

/** Bounds the work of one query; 200 characters of text hold at most 100 words anyway. */
export const MAX_SEARCH_WORDS = 32;
