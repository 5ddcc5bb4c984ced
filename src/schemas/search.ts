import * as z from "zod/mini";
import { SEARCH_MAX_OFFSET, SEARCH_TEXT_MAX } from "../domain/search";
import { idSchema, limitSchema, text } from "./common";
import { postSchema, postStatusSchema } from "./posts";

/** Search text: plain words, never query syntax (src/search/fts-expression.ts). */
export const searchTextSchema = text(1, SEARCH_TEXT_MAX).check(
  z.meta({
    description: `Plain text, 1..${SEARCH_TEXT_MAX} characters: every word must match (accents and case ignored), the last one as a prefix`,
  }),
);

const offsetSchema = z._default(
  z.pipe(
    z
      .string()
      .check(
        z.regex(/^\d{1,4}$/, `must be a whole number from 0 to ${SEARCH_MAX_OFFSET}`),
        z.meta({ description: `Hits to skip, 0..${SEARCH_MAX_OFFSET} (pass \`next_offset\`)` }),
      ),
    z.pipe(
      z.transform((raw: string) => Number(raw)),
      z.number().check(z.int(), z.minimum(0), z.maximum(SEARCH_MAX_OFFSET)),
    ),
  ),
  0,
);

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
      snippet: z.string().check(
        z.meta({
          description:
            "A short excerpt of the title or content, HTML-escaped, with each match wrapped in `<mark>` and `</mark>` (the only markup in it)",
        }),
      ),
    })
    .check(z.meta({ id: "PostSearchHit" }));

  return z.object({
    data: z.array(hit),
    next_offset: z
      .nullable(z.number().check(z.int(), z.minimum(0)))
      .check(z.meta({ description: "Pass as `offset` for the next page; null at the end or past the deepest page" })),
  });
}
