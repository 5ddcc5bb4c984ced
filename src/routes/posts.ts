import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { setCacheHeaders } from "../cache/http";
import { dependencies } from "../cache/invalidation";
import { cacheKeys, generationKeys, POST_CACHE_TTL_SECONDS } from "../cache/keys";
import { normaliseQuery, serveList } from "../cache/read-through";
import { postAuthors } from "../cache/remembered";
import { createPost, deletePostForGood, editPost, findVisiblePost, visiblePosts } from "../domain/posts";
import { encodeCursor } from "../lib/cursor";
import { postEtag } from "../lib/etag";
import { toPage } from "../lib/pagination";
import { sendJson } from "../lib/send-json";
import { requireUser } from "../middleware/auth";
import { jsonBody, POST_BODY_MAX_BYTES } from "../middleware/json-body";
import { userWriteLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/annotations";
import { POST_PAGE_RESPONSE, PUBLIC_READ_HEADERS } from "../openapi/responses";
import { type PostJson, type PostWithAuthor, toPostJson } from "../projections";
import { idParamSchema } from "../schemas/common";
import {
  createPostSchema,
  idempotencyKeySchema,
  listPostsQuerySchema,
  postSchema,
  updatePostSchema,
} from "../schemas/posts";

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
      const { status, author_id, cursor, limit } = c.req.valid("query");
      const key = normaliseQuery("posts", {
        status,
        author_id,
        cursor: cursor && encodeCursor(cursor),
        limit,
      });
      return serveList(c, key, dependencies.globalList(), async () => {
        const filter = { status, authorId: author_id };
        const rows = await visiblePosts(c.var.domain, c.var.actor, filter, cursor, limit);
        return toPage(rows, limit, ({ post }) => post, toPostJson);
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
      const { cache, actor } = c.var;
      // Published posts look the same to everyone, so any caller may be served the public entry.
      const lookup = await cache.lookup(cacheKeys.post(id), dependencies.post(id, postAuthors.get(id)));
      if (lookup.kind === "hit") {
        for (const key of lookup.dependsOn) {
          const authorId = generationKeys.authorIn(key);
          if (authorId !== undefined) postAuthors.set(id, authorId);
        }
        setCacheHeaders(c, "HIT", true);
        return sendJson(c, lookup.entry.etag, lookup.entry.body);
      }
      // The post embeds its author's name: read at least as fresh as the author's generation too.
      const { value: found, stamp } = await cache.loadFresh(
        lookup,
        () => findVisiblePost(c.var.domain, actor, id),
        (post) => dependencies.postAuthor(post.post.authorId),
      );
      postAuthors.set(id, found.post.authorId);
      const etag = postEtag(found);
      const body = JSON.stringify(toPostJson(found));
      const isPublic = found.post.status === "published";
      if (isPublic && lookup.kind === "miss" && stamp) {
        cache.fill(cacheKeys.post(id), lookup, { etag, body }, POST_CACHE_TTL_SECONDS, stamp);
      }
      setCacheHeaders(c, isPublic ? "MISS" : "BYPASS", isPublic);
      return sendJson(c, etag, body);
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
