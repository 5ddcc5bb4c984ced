import type { $ZodType } from "zod/v4/core";
import { PUBLIC_MAX_AGE_SECONDS } from "../cache/keys";
import { pageSchema } from "../schemas/common";
import { postSchema } from "../schemas/posts";
import { buildSearchPageSchema } from "../schemas/search";

/** Response descriptions several routes share, for the OpenAPI document. */

/** Response headers of cacheable public reads. */
export const PUBLIC_READ_HEADERS = {
  ETag: "Validator; send back as If-None-Match",
  "X-Cache": "HIT, MISS or BYPASS",
  "Cache-Control": `public, max-age=${PUBLIC_MAX_AGE_SECONDS} for anonymous callers; private, no-store otherwise`,
};

let postPageSchema: $ZodType | undefined;

/**
 * The success response of both post lists (`/v1/posts`, `/v1/users/:id/posts`). Its schema is
 * only read by the OpenAPI generator (at build time), so the Worker does not build it at startup.
 */
export const POST_PAGE_RESPONSE = {
  status: 200,
  description: "A page of posts",
  get schema() {
    postPageSchema ??= pageSchema(postSchema);
    return postPageSchema;
  },
  headers: PUBLIC_READ_HEADERS,
} as const;

let searchPageSchema: $ZodType | undefined;

/** The success response of `GET /v1/posts/search`. */
export const SEARCH_PAGE_RESPONSE = {
  status: 200,
  description: "Matching posts, best first",
  get schema() {
    searchPageSchema ??= buildSearchPageSchema();
    return searchPageSchema;
  },
  headers: PUBLIC_READ_HEADERS,
} as const;
