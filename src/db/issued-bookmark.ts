import { fromBase64Url, toBase64Url } from "../lib/encoding";
import type { D1Bookmark } from "./bookmark";

/**
 * `X-D1-Bookmark` as the API hands it out: `<D1 bookmark>.<tag>`, the tag an HMAC of the bookmark
 * under the service's key. A bookmark raises how fresh a request's reads must be, and the read
 * cache records it in shared entries, so only bookmarks this service issued are trusted: a forged
 * `ffff…` would otherwise be echoed back and stored, and every entry it stamped would look newer
 * than any real reader's bookmark.
 */

/** Keeps the MACs apart from the JWT signatures made with the same key (those sign base64url text). */
const CONTEXT = "x-d1-bookmark:";
const TAG_BYTES = 16;
const TAG_PATTERN = /^[A-Za-z0-9_-]{22}$/;

const message = (bookmark: D1Bookmark) => new TextEncoder().encode(`${CONTEXT}${bookmark}`);

/** The header value for a bookmark of ours. */
export async function issueBookmark(key: CryptoKey, bookmark: D1Bookmark): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message(bookmark)));
  return `${bookmark}.${toBase64Url(mac.slice(0, TAG_BYTES))}`;
}

/**
 * What a client's header says: the bookmark part (for the format check), and whether its tag is
 * ours. Compared in constant time on the full-length MAC of the bookmark part.
 */
export async function readIssuedBookmark(
  key: CryptoKey,
  header: string,
): Promise<{ bookmark: string; issued: boolean }> {
  const dot = header.lastIndexOf(".");
  if (dot < 0) return { bookmark: header, issued: false };
  const bookmark = header.slice(0, dot);
  const tagText = header.slice(dot + 1);
  const tag = TAG_PATTERN.test(tagText) ? fromBase64Url(tagText) : null;
  if (!tag || tag.length !== TAG_BYTES) return { bookmark, issued: false };
  const expected = new Uint8Array(await crypto.subtle.sign("HMAC", key, message(bookmark))).slice(0, TAG_BYTES);
  return { bookmark, issued: crypto.subtle.timingSafeEqual(expected, tag) };
}
