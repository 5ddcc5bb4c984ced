import type { PostWithAuthor } from "../db/posts";
import { toHex } from "./encoding";

/** FNV-1a, 32 bits: cheap and stable, enough to tell two author names apart in a tag. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

/**
 * Strong ETag of a post: its `version`, plus the author's name, which is part of the
 * representation but does not bump the post's version when the author renames.
 */
export function postEtag({
  post,
  authorName,
}: {
  post: Pick<PostWithAuthor["post"], "version">;
  authorName: string;
}): string {
  return `"${post.version}-${fnv1a(authorName)}"`;
}

function listedTags(header: string): string[] {
  return header.split(",").map((tag) => tag.trim());
}

/** `If-None-Match`: weak comparison, `*` matches any current representation. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = etag.replace(/^W\//, "");
  return listedTags(header).some((tag) => tag === "*" || tag.replace(/^W\//, "") === opaque);
}

/** `If-Match`: strong comparison, so a weak tag never matches. */
export function ifMatchHolds(header: string, etag: string): boolean {
  return listedTags(header).some((tag) => tag === "*" || tag === etag);
}

/** Weak validator of a serialised body (list pages have no version of their own). */
export async function bodyEtag(body: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", new TextEncoder().encode(body)));
  const hex = toHex(digest.slice(0, 10));
  return `W/"${hex}"`;
}
