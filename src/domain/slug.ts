/** Longest title part of a slug; the suffix keeps it unique, so a cut costs nothing. */
const SLUG_TITLE_MAX_CHARS = 60;

/**
 * A post's URL name: the title's letters and digits in lower case, joined by "-", then part of
 * the post's random id, so two posts with one title never collide and the slug can be made
 * before the insert (no read-then-write race). It never changes, so shared links keep working.
 */
export function slugFor(title: string, postId: string): string {
  const words = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, SLUG_TITLE_MAX_CHARS)
    .replace(/-+$/, "");
  // The last 8 hex digits of a UUIDv7 are random.
  const suffix = postId.replace(/-/g, "").slice(-8).toLowerCase();
  return words ? `${words}-${suffix}` : suffix;
}
