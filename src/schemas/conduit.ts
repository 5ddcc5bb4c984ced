import * as z from "zod/mini";
import { SEARCH_TEXT_MAX } from "../domain/search";
import { text } from "./common";
import { emailSchema, passwordSchema } from "./users";

/**
 * Request and response shapes of the RealWorld (Conduit) surface, as its spec names them
 * (`api/openapi.yml` of gothinkster/realworld). Field rules are the `/v1` ones where both have
 * the field (email, password, title, body), so a value one surface takes the other takes too.
 */

/** Account ids are UUIDs; a `/v1` user without a username is known by theirs (db/articles.ts). */
const LOOKS_LIKE_AN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const usernameSchema = z.string().check(
  // At least one letter or digit: `.` and `..` would be dot segments in /api/profiles/:username.
  z.regex(/^(?=.*[A-Za-z0-9])[A-Za-z0-9_.-]{1,40}$/, "must be 1 to 40 letters, digits, '_', '.' or '-'"),
  // Else one could take the handle another account is shown under.
  z.refine((name) => !LOOKS_LIKE_AN_ID.test(name), "must not look like an account id"),
  z.meta({ example: "jake" }),
);
const bioSchema = z.nullable(text(0, 2000));
const imageSchema = z.nullable(
  z.string().check(
    z.maxLength(2000),
    z.refine((value) => value === "" || /^https?:\/\/\S+$/.test(value), "must be an http(s) URL"),
  ),
);
const titleSchema = text(1, 200);
const descriptionSchema = text(0, 1000);
const bodySchema = text(1, 100_000);
/**
 * Tags are keys (`?tag=`, `/api/tags`): no control or format characters (`\p{Cc}`, `\p{Cf}`: tabs,
 * zero-width spaces and joiners, bidi overrides), which would make tags that look the same differ.
 */
const tagSchema = text(1, 40).check(
  z.refine((tag) => !/[\p{Cc}\p{Cf}]/u.test(tag), "must not contain invisible or control characters"),
);
const tagListSchema = z.array(tagSchema).check(z.maxLength(10));

export const newUserSchema = z.strictObject({
  user: z.strictObject({ username: usernameSchema, email: emailSchema, password: passwordSchema }),
});

export const loginUserSchema = z.strictObject({
  user: z.strictObject({ email: emailSchema, password: z.string().check(z.minLength(1), z.maxLength(128)) }),
});

export const updateUserSchema = z.strictObject({
  user: z
    .strictObject({
      email: z.optional(emailSchema),
      username: z.optional(usernameSchema),
      password: z.optional(passwordSchema),
      bio: z.optional(bioSchema),
      image: z.optional(imageSchema),
    })
    .check(z.refine((user) => Object.keys(user).length > 0, "must change at least one field")),
});

export const newArticleSchema = z.strictObject({
  article: z.strictObject({
    title: titleSchema,
    description: descriptionSchema,
    body: bodySchema,
    tagList: z.optional(tagListSchema),
  }),
});

export const updateArticleSchema = z.strictObject({
  article: z
    .strictObject({
      title: z.optional(titleSchema),
      description: z.optional(descriptionSchema),
      body: z.optional(bodySchema),
      tagList: z.optional(tagListSchema),
    })
    .check(z.refine((article) => Object.keys(article).length > 0, "must change at least one field")),
});

export const newCommentSchema = z.strictObject({ comment: z.strictObject({ body: text(1, 10_000) }) });

/** `limit` and `offset` as decimal digits; anything else is a 422. */
export const pageNumber = (description: string, min: number, max: number, fallback: number) =>
  z._default(
    z.pipe(
      z.string().check(z.regex(/^\d{1,6}$/, `must be a whole number from ${min} to ${max}`), z.meta({ description })),
      z.pipe(
        z.transform((raw: string) => Number(raw)),
        z.number().check(z.int(), z.minimum(min), z.maximum(max)),
      ),
    ),
    fallback,
  );

const MAX_OFFSET = 100_000;
const pageQuery = {
  limit: pageNumber("Page size, 1..100", 1, 100, 20),
  offset: pageNumber(`Articles to skip, 0..${MAX_OFFSET}`, 0, MAX_OFFSET, 0),
};

export const feedQuerySchema = z.strictObject(pageQuery);

const filterText = z.optional(z.string().check(z.minLength(1), z.maxLength(100)));
export const listArticlesQuerySchema = z.strictObject({
  tag: filterText,
  author: filterText,
  favorited: filterText,
  /** Extension: full-text search with the engine of `GET /v1/posts/search`. */
  search: z.optional(text(1, SEARCH_TEXT_MAX)),
  ...pageQuery,
});

export const slugParamSchema = z.strictObject({ slug: z.string().check(z.minLength(1), z.maxLength(200)) });
export const usernameParamSchema = z.strictObject({ username: z.string().check(z.minLength(1), z.maxLength(128)) });
export const commentParamSchema = z.strictObject({
  slug: z.string().check(z.minLength(1), z.maxLength(200)),
  id: z.pipe(
    z.string().check(z.regex(/^\d{1,15}$/, "must be a comment id (a whole number)")),
    z.transform((raw: string) => Number(raw)),
  ),
});

// Responses (for the OpenAPI document; handlers build them through routes/conduit/render.ts).
export const profileSchema = z
  .object({ username: z.string(), bio: z.nullable(z.string()), image: z.nullable(z.string()), following: z.boolean() })
  .check(z.meta({ id: "ConduitProfile" }));

export const conduitUserSchema = z
  .object({
    email: z.string(),
    token: z.string(),
    username: z.string(),
    bio: z.nullable(z.string()),
    image: z.nullable(z.string()),
  })
  .check(z.meta({ id: "ConduitUser" }));

const articleFields = {
  slug: z.string(),
  title: z.string(),
  description: z.string(),
  tagList: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
  favorited: z.boolean(),
  favoritesCount: z.number().check(z.int()),
  author: profileSchema,
};
export const articleSchema = z.object({ ...articleFields, body: z.string() }).check(z.meta({ id: "ConduitArticle" }));
export const articleListItemSchema = z.object(articleFields).check(z.meta({ id: "ConduitArticleListItem" }));

export const commentSchema = z
  .object({
    id: z.number().check(z.int()),
    createdAt: z.string(),
    updatedAt: z.string(),
    body: z.string(),
    author: profileSchema,
  })
  .check(z.meta({ id: "ConduitComment" }));

export const userResponseSchema = z.object({ user: conduitUserSchema });
export const profileResponseSchema = z.object({ profile: profileSchema });
export const articleResponseSchema = z.object({ article: articleSchema });
export const articlesResponseSchema = z.object({
  articles: z.array(articleListItemSchema),
  articlesCount: z.number().check(z.int()),
});
export const commentResponseSchema = z.object({ comment: commentSchema });
export const commentsResponseSchema = z.object({ comments: z.array(commentSchema) });
export const tagsResponseSchema = z.object({ tags: z.array(z.string()) });
export const conduitErrorSchema = z
  .object({ errors: z.object({ body: z.array(z.string()) }) })
  .check(z.meta({ id: "ConduitError" }));
