import * as z from "zod/mini";
import { SEARCH_MAX_OFFSET, SEARCH_TEXT_MAX } from "../domain/search";
import { idSchema, limitSchema, text } from "./common";
import { pageNumber } from "./conduit";
import { postSchema, postStatusSchema } from "./posts";

/** Search text: plain words, never query syntax (src/search/fts-expression.ts). */
export const searchTextSchema = text(1, SEARCH_TEXT_MAX);

const offsetSchema = pageNumber(`Hits to skip, 0..${SEARCH_MAX_OFFSET}`, 0, SEARCH_MAX_OFFSET, 0);

export const searchPostsQuerySchema = z.strictObject({
  q: searchTextSchema,
  status: z.optional(postStatusSchema),
  author_id: z.optional(idSchema),
  limit: limitSchema,
  offset: offsetSchema,
});

/** The response page; built only by the OpenAPI generator (src/openapi/responses.ts). */
export function buildSearchPageSchema() {
  const hit = z
    .object({
      ...postSchema.shape,
      snippet: z
        .string()
        .check(z.meta({ description: "HTML-escaped excerpt; matches in `<mark>…</mark>`, its only markup" })),
    })
    .check(z.meta({ id: "PostSearchHit" }));

  return z.object({
    data: z.array(hit),
    next_offset: z
      .nullable(z.number().check(z.int(), z.minimum(0)))
      .check(z.meta({ description: "`offset` of the next page; null at the end" })),
  });
}
