import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { dependencies } from "../cache/invalidation";
import { cacheKeys } from "../cache/keys";
import { boundedQueryKey, normaliseQuery, serveItem, serveList } from "../cache/read-through";
import { postDependencies } from "../cache/remembered";
import type { PostWithAuthor } from "../db/posts";
import { createPost, deletePostForGood, editPost, findVisiblePost, visiblePosts } from "../domain/posts";
import { searchVisiblePosts } from "../domain/search";
import { postEtag } from "../lib/etag";
import { toPage } from "../lib/pagination";
import { requireUser } from "../middleware/auth";
import { jsonBody, POST_BODY_MAX_BYTES } from "../middleware/json-body";
import { userWriteLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/annotations";
import { POST_PAGE_RESPONSE, PUBLIC_READ_HEADERS, SEARCH_PAGE_RESPONSE } from "../openapi/responses";
import { type PostJson, toPostJson } from "../projections";
import { idParamSchema } from "../schemas/common";
import {
  createPostSchema,
  idempotencyKeySchema,
  listPostsQuerySchema,
  postSchema,
  updatePostSchema,
} from "../schemas/posts";
import { searchPostsQuerySchema } from "../schemas/search";
import { toSearchPage } from "../search/render";

const idempotencyHeaderSchema = z.object({ "idempotency-key": z.optional(idempotencyKeySchema) });

export const postRoutes = new Hono<AppEnv>()
  .get(
    "/",
    describeRoute({
      summary: "List posts",
      description:
        "Newest first, keyset-paginated. Anonymous callers see published posts; authors also see their own drafts; admins see all.",
      tag: "posts",
      auth: "optional",
      success: POST_PAGE_RESPONSE,
      errors: [],
      conditionalGet: true,
    }),
    validate("query", listPostsQuerySchema),
    async (c) => {
      const query = c.req.valid("query");
      const { status, author_id, cursor, limit } = query;
      return serveList(c, normaliseQuery("posts", query), dependencies.globalList(), async () => {
        const filter = { status, authorId: author_id };
        const rows = await visiblePosts(c.var.domain, c.var.actor, filter, cursor, limit);
        return toPage(rows, limit, ({ post }) => post, toPostJson);
      });
    },
  )
  .get(
    "/search",
    describeRoute({
      summary: "Search posts",
      description:
        "Full-text search of titles and contents (docs/search.md): `q` is plain text, its last word a prefix; best match first.",
      tag: "posts",
      auth: "optional",
      success: SEARCH_PAGE_RESPONSE,
      errors: [],
      conditionalGet: true,
    }),
    validate("query", searchPostsQuerySchema),
    async (c) => {
      const query = c.req.valid("query");
      const { q, status, author_id, limit, offset } = query;
      const key = await boundedQueryKey(normaliseQuery("posts/search", query));
      return serveList(c, key, dependencies.globalList(), async () => {
        const filter = { status, authorId: author_id };
        const hits = await searchVisiblePosts(c.var.domain, c.var.actor, q, filter, { limit, offset });
        return toSearchPage(hits, limit, offset);
      });
    },
  )
  .get(
    "/:id",
    describeRoute({
      summary: "Get a post",
      description:
        "Drafts and archived posts are visible only to their author and admins; to anyone else they do not exist (404).",
      tag: "posts",
      auth: "optional",
      success: { status: 200, description: "The post", schema: postSchema, headers: PUBLIC_READ_HEADERS },
      errors: [404],
      conditionalGet: true,
    }),
    validate("param", idParamSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      // A published post looks the same to every caller, so anyone may be served the entry.
      return serveItem(c, {
        key: cacheKeys.post(id),
        known: dependencies.post(id),
        load: () => findVisiblePost(c.var.domain, c.var.actor, id),
        // It embeds its author's name: read at least as fresh as the author's generation too.
        dependsOn: (found) => dependencies.post(id, found.post.authorId),
        render: toPostJson,
        sharedWith: "anyone",
        isPublic: (found) => found.post.status === "published",
        etag: postEtag,
        remembered: postDependencies,
      });
    },
  )
  .post(
    "/",
    describeRoute({
      summary: "Create a post",
      description:
        "Users and admins. With `Idempotency-Key`, a retry with the same body within 24 h returns the stored response instead of a second post.",
      tag: "posts",
      auth: "required",
      success: {
        status: 201,
        description: "Created",
        schema: postSchema,
        headers: { Location: "URL of the new post", ETag: "Version tag" },
      },
      errors: [403, 409, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("header", idempotencyHeaderSchema),
    jsonBody(POST_BODY_MAX_BYTES),
    validate("json", createPostSchema),
    async (c) => {
      const key = c.req.valid("header")["idempotency-key"];
      const render = (post: PostWithAuthor) => JSON.stringify(toPostJson(post));
      const outcome = await createPost(
        c.var.domain,
        c.var.user,
        c.req.valid("json"),
        key === undefined ? undefined : { key, render },
      );
      // A replay answers with the stored bytes: parsing and re-serialising our own JSON is exact.
      const json = outcome.kind === "created" ? toPostJson(outcome.post) : (JSON.parse(outcome.storedBody) as PostJson);
      if (outcome.kind === "replayed") c.header("Idempotent-Replayed", "true");
      c.header("Location", `/v1/posts/${json.id}`);
      c.header("ETag", postEtag({ post: { version: json.version }, authorName: json.author.name }));
      return c.json(json, 201);
    },
  )
  .patch(
    "/:id",
    describeRoute({
      summary: "Update a post",
      description:
        "The author (user or admin role) or any admin. Send `If-Match` with the ETag you read to avoid overwriting a newer version.",
      tag: "posts",
      auth: "required",
      success: { status: 200, description: "The updated post", schema: postSchema, headers: { ETag: "Version tag" } },
      errors: [403, 404, 412, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", idParamSchema),
    jsonBody(POST_BODY_MAX_BYTES),
    validate("json", updatePostSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const updated = await editPost(c.var.domain, c.var.user, id, c.req.valid("json"), c.req.header("If-Match"));
      c.header("ETag", postEtag(updated));
      return c.json(toPostJson(updated));
    },
  )
  .delete(
    "/:id",
    describeRoute({
      summary: "Delete a post",
      description: "Admins only; users archive their posts instead.",
      tag: "posts",
      auth: "required",
      success: { status: 204, description: "Deleted" },
      errors: [403, 404, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", idParamSchema),
    async (c) => {
      await deletePostForGood(c.var.domain, c.var.user, c.req.valid("param").id);
      return c.body(null, 204);
    },
  );
