import { z } from "zod";
import { POST_STATUSES } from "../db/schema";
import { cursorSchema, idSchema, isoTimeSchema, limitSchema, text } from "./common";
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
    published_at: isoTimeSchema.nullable(),
    version: z.number().int().min(1),
  })
  .meta({ id: "Post" });

export const createPostSchema = z.strictObject({
  title: text(1, POST_TITLE_MAX),
  content: text(1, POST_CONTENT_MAX),
  status: postStatusSchema.default("draft"),
});

export const updatePostSchema = z
  .strictObject({
    title: text(1, POST_TITLE_MAX).optional(),
    content: text(1, POST_CONTENT_MAX).optional(),
    status: postStatusSchema.optional(),
  })
  .refine((body) => Object.keys(body).length > 0, "must change at least one field");

export const listPostsQuerySchema = z.strictObject({
  status: postStatusSchema.optional(),
  author_id: idSchema.optional(),
  cursor: cursorSchema.optional(),
  limit: limitSchema,
});

/** Same paging as the global list; the author comes from the path. */
export const listUserPostsQuerySchema = listPostsQuerySchema.omit({ author_id: true });

export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,255}$/, "must be 1..255 visible ASCII characters");
