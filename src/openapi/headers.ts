/** Response headers of cacheable public reads, for the document. */
export const PUBLIC_READ_HEADERS = {
  ETag: "Validator; send back as If-None-Match",
  "X-Cache": "HIT, MISS or BYPASS",
  "Cache-Control": "public, max-age=30 for anonymous callers; private, no-store otherwise",
};
