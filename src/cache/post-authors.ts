/**
 * Which author wrote a post never changes, so an isolate may remember it: the lookup of a cached
 * post can then read the author's generation in the same KV round trip as the entry, instead of a
 * second one after it. Bounded; forgetting only costs that round trip again.
 */
const MAX_REMEMBERED = 10_000;
const authors = new Map<string, string>();

export function rememberedAuthor(postId: string): string | undefined {
  return authors.get(postId);
}

export function rememberAuthor(postId: string, authorId: string): void {
  if (authors.has(postId)) return;
  const oldest = authors.keys().next();
  if (authors.size >= MAX_REMEMBERED && !oldest.done) authors.delete(oldest.value);
  authors.set(postId, authorId);
}
