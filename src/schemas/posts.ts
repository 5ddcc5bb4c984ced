import * as z from "zod/mini";
import { POST_STATUSES } from "../domain/vocabulary";
import { cursorSchema, idSchema, isoTimeSchema, limitSchema, ONLY_WHEN_VALID, text } from "./common";
import { publicProfileSchema } from "./users";

export const POST_TITLE_MAX = 200;
export const POST_CONTENT_MAX = 100_000;

export const postStatusSchema = z.enum(POST_STATUSES);

export const postSchema = z
  .object({
    id: idSchema,
    title: z.string(),
    content: z.string(),
    status: postStatusSchema,
    author: publicProfileSchema,
    created_at: isoTimeSchema,
    updated_at: isoTimeSchema,
    published_at: z.nullable(isoTimeSchema),
    version: z.number().check(z.int(), z.minimum(1)),
  })
  .check(z.meta({ id: "Post" }));

export const createPostSchema = z.strictObject({
  title: text(1, POST_TITLE_MAX),
  content: text(1, POST_CONTENT_MAX),
  status: z._default(postStatusSchema, "draft"),
});

export const updatePostSchema = z
  .strictObject({
    title: z.optional(text(1, POST_TITLE_MAX)),
    content: z.optional(text(1, POST_CONTENT_MAX)),
    status: z.optional(postStatusSchema),
  })
  .check(
    z.refine((body) => Object.keys(body).length > 0, { message: "must change at least one field", ...ONLY_WHEN_VALID }),
  );

export const listPostsQuerySchema = z.strictObject({
  status: z.optional(postStatusSchema),
  author_id: z.optional(idSchema),
  cursor: z.optional(cursorSchema),
  limit: limitSchema,
});

/** Same paging as the global list; the author comes from the path. */
export const listUserPostsQuerySchema = z.strictObject({
  status: z.optional(postStatusSchema),
  cursor: z.optional(cursorSchema),
  limit: limitSchema,
});

export const idempotencyKeySchema = z
  .string()
  .check(z.regex(/^[\x21-\x7e]{1,255}$/, "must be 1..255 visible ASCII characters"));
