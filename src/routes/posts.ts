import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { setCacheHeaders } from "../cache/http";
import { dependencies, retiredByPostWrite, writeThenRetire } from "../cache/invalidation";
import { cacheKeys, POST_CACHE_TTL_SECONDS } from "../cache/keys";
import { normaliseQuery, serveList } from "../cache/read-through";
import { isUniqueViolation } from "../db/errors";
import { findStoredResponse, recordResponseStatements } from "../db/idempotency";
import { deletePost, findPostWithAuthor, listPosts, updatePost } from "../db/posts";
import { posts } from "../db/schema";
import { findUserById } from "../db/users";
import { AuthenticationError, ConflictError, NotFoundError, PreconditionFailedError } from "../errors";
import { encodeCursor } from "../lib/cursor";
import { sha256Hex } from "../lib/encoding";
import { ifMatchHolds, postEtag } from "../lib/etag";
import { isoNow, newId } from "../lib/ids";
import { toPage } from "../lib/pagination";
import { sendJson } from "../lib/send-json";
import { requireUser, type WithUser } from "../middleware/auth";
import { jsonBody } from "../middleware/json-body";
import { rateLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/annotations";
import { POST_PAGE_RESPONSE, PUBLIC_READ_HEADERS } from "../openapi/responses";
import { authorize, canSeePost, editAction, postScope } from "../permissions";
import { type PostJson, toPostJson } from "../projections";
import { idParamSchema } from "../schemas/common";
import {
  createPostSchema,
  idempotencyKeySchema,
  listPostsQuerySchema,
  postSchema,
  updatePostSchema,
} from "../schemas/posts";

/**
 * Post bodies may carry 100,000 characters of content; escaped as JSON (`\uXXXX`, 6 bytes per
 * UTF-16 unit) that is up to 600,000 bytes, so post writes get a larger limit than the default.
 */
export const POST_BODY_MAX_BYTES = 640 * 1024;

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
        const rows = await listPosts(c.var.db, postScope(c.var.actor), { status, authorId: author_id }, cursor, limit);
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
      const lookup = await cache.lookup(cacheKeys.post(id), dependencies.post(id));
      if (lookup.kind === "hit") {
        setCacheHeaders(c, "HIT", true);
        return sendJson(c, lookup.entry.etag, lookup.entry.body);
      }
      // The post embeds its author's name: read at least as fresh as the author's generation too.
      const { value: found, stamp } = await cache.loadFresh(
        lookup,
        () => findPostWithAuthor(c.var.db, id),
        (post) => (post ? dependencies.postAuthor(post.post.authorId) : []),
      );
      // A post the caller may not see answers exactly like one that never existed.
      if (!found || !canSeePost(actor, found.post)) throw NotFoundError.resource("post", id);
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
    rateLimit<WithUser>("POST_WRITE_USER_LIMITER", (c) => c.var.user.id),
    validate("header", idempotencyHeaderSchema),
    jsonBody(POST_BODY_MAX_BYTES),
    validate("json", createPostSchema),
    async (c) => {
      const body = c.req.valid("json");
      const idempotencyKey = c.req.valid("header")["idempotency-key"];
      const actor = c.var.user;
      authorize(actor, "post:create", "Your role may not create posts");
      const { db } = c.var;
      const nowMs = Date.now();
      const requestHash = await sha256Hex(JSON.stringify([body.title, body.content, body.status]));

      const replay = async () => {
        if (!idempotencyKey) return undefined;
        const stored = await findStoredResponse(db, actor.id, idempotencyKey, nowMs);
        if (!stored) return undefined;
        if (stored.requestHash !== requestHash) {
          throw new ConflictError("Idempotency-Key was already used with a different body", {
            reason: "idempotency_key_reuse",
          });
        }
        // Our own serialised PostJson; parsing and re-serialising yields the same bytes.
        const post = JSON.parse(stored.body) as PostJson;
        // The first attempt may have died between its commit and its invalidation: redo it.
        await c.var.cache.bump(retiredByPostWrite({ id: post.id, authorId: actor.id }, null, post.status), "committed");
        c.header("Location", `/v1/posts/${post.id}`);
        c.header("ETag", postEtag({ post: { version: post.version }, authorName: post.author.name }));
        c.header("Idempotent-Replayed", "true");
        return c.json(post, 201);
      };

      const replayed = await replay();
      if (replayed) return replayed;

      const author = await findUserById(db, actor.id);
      if (!author) throw new AuthenticationError("Account no longer exists");
      const now = isoNow(nowMs);
      const row = {
        id: newId(nowMs),
        authorId: actor.id,
        title: body.title,
        content: body.content,
        status: body.status,
        createdAt: now,
        updatedAt: now,
        publishedAt: body.status === "published" ? now : null,
        version: 1,
      };
      const json = toPostJson({ post: row, authorName: author.name });
      const insert = db.insert(posts).values(row);
      const write = async () => {
        if (idempotencyKey) {
          // One batch: the post and the record of its response commit together or not at all.
          const record = { requestHash, status: 201, body: JSON.stringify(json) };
          await db.batch([insert, ...recordResponseStatements(db, actor.id, idempotencyKey, record, nowMs)]);
        } else {
          await insert;
        }
      };
      try {
        await writeThenRetire(c.var.cache, write, (result) =>
          retiredByPostWrite(row, null, result.kind === "committed" ? row.status : "unknown"),
        );
      } catch (error) {
        // A concurrent request with the same key won the race: answer as its replay would.
        const raced = idempotencyKey && isUniqueViolation(error) ? await replay() : undefined;
        if (raced) return raced;
        throw error;
      }
      c.header("Location", `/v1/posts/${row.id}`);
      c.header("ETag", postEtag({ post: row, authorName: author.name }));
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
      errors: [403, 404, 412],
    }),
    requireUser,
    validate("param", idParamSchema),
    jsonBody(POST_BODY_MAX_BYTES),
    validate("json", updatePostSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const changes = c.req.valid("json");
      const actor = c.var.user;
      const { db } = c.var;
      const found = await findPostWithAuthor(db, id);
      if (!found || !canSeePost(actor, found.post)) throw NotFoundError.resource("post", id);
      authorize(actor, editAction(actor, found.post), "You may not edit this post");
      const ifMatch = c.req.header("If-Match");
      const currentEtag = postEtag(found);
      if (ifMatch !== undefined && !ifMatchHolds(ifMatch, currentEtag)) {
        throw new PreconditionFailedError("The post changed since you read it", { current_etag: currentEtag });
      }
      // With If-Match the update is also conditional in SQL, closing the read-then-write gap.
      const expectedVersion = ifMatch === undefined ? undefined : found.post.version;
      const updated = await writeThenRetire(
        c.var.cache,
        () => updatePost(db, id, changes, expectedVersion, isoNow()),
        (result) => {
          if (result.kind === "unknown") return retiredByPostWrite(found.post, found.post.status, "unknown");
          return result.value ? retiredByPostWrite(found.post, found.post.status, result.value.status) : [];
        },
      );
      if (!updated) {
        const current = ifMatch === undefined ? undefined : await findPostWithAuthor(db, id);
        if (current) {
          throw new PreconditionFailedError("The post changed since you read it", { current_etag: postEtag(current) });
        }
        throw NotFoundError.resource("post", id);
      }
      const result = { post: updated, authorName: found.authorName };
      c.header("ETag", postEtag(result));
      return c.json(toPostJson(result));
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
      errors: [403, 404],
    }),
    requireUser,
    validate("param", idParamSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const { actor, db } = c.var;
      const found = await findPostWithAuthor(db, id);
      if (!found || !canSeePost(actor, found.post)) throw NotFoundError.resource("post", id);
      authorize(actor, "post:delete", "Only admins delete posts; archive it instead");
      const deleted = await writeThenRetire(
        c.var.cache,
        () => deletePost(db, id),
        (result) =>
          result.kind === "unknown" || result.value
            ? retiredByPostWrite(found.post, found.post.status, result.kind === "unknown" ? "unknown" : null)
            : [],
      );
      if (!deleted) throw NotFoundError.resource("post", id);
      return c.body(null, 204);
    },
  );
