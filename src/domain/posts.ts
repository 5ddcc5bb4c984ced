import { retiredByNewPostOf, retiredByPostWrite, writeThenRetire } from "../cache/invalidation";
import { setTagsStatements } from "../db/articles";
import { isUniqueViolation } from "../db/errors";
import { findStoredResponse, recordResponseStatements } from "../db/idempotency";
import {
  deletePost,
  findPostWithAuthor,
  listPosts,
  listPostsOfAuthor,
  type PostFilter,
  type PostWithAuthor,
  updatePost,
} from "../db/posts";
import { posts, type UserRow } from "../db/schema";
import { findUserById } from "../db/users";
import { AuthenticationError, ConflictError, NotFoundError, PermissionError, PreconditionFailedError } from "../errors";
import type { Cursor } from "../lib/cursor";
import { sha256Hex } from "../lib/encoding";
import { ifMatchHolds, postEtag } from "../lib/etag";
import { isoNow, newId } from "../lib/ids";
import type { DomainContext } from "./context";
import { authorize, canSeePost, editAction, postScope } from "./permissions";
import { slugFor } from "./slug";
import type { Actor, PostStatus, UserActor } from "./vocabulary";

/**
 * Posts: the rules every surface shares. Visibility (a post the caller may not see does not
 * exist for it), permissions, optimistic concurrency, idempotent creation, and the
 * write-then-invalidate sequence all live here; handlers parse, call, and render.
 */

export type NewPost = {
  title: string;
  content: string;
  status: PostStatus;
  /** RealWorld's summary line; empty when the post came through `/v1`. */
  description?: string;
  tags?: readonly string[];
};
export type PostChanges = {
  title?: string;
  content?: string;
  status?: PostStatus;
  description?: string;
  /** The post's whole new set of tags. */
  tags?: readonly string[];
};

/** The post, if the actor may see it; otherwise exactly what an id that never existed gives. */
export async function findVisiblePost(ctx: DomainContext, actor: Actor, id: string): Promise<PostWithAuthor> {
  const found = await findPostWithAuthor(ctx.db, id);
  if (!found || !canSeePost(actor, found.post)) throw NotFoundError.resource("post", id);
  return found;
}

/** Idempotent creation: the same key and body within 24 h gives back the stored response. */
export type Idempotency = {
  key: string;
  /** The response body to store with the post (each surface renders its own). */
  render: (post: PostWithAuthor) => string;
};

export type CreateOutcome = { kind: "created"; post: PostWithAuthor } | { kind: "replayed"; storedBody: string };

export async function createPost(
  ctx: DomainContext,
  actor: UserActor,
  input: NewPost,
  idempotency?: Idempotency,
): Promise<CreateOutcome> {
  authorize(actor, "post:create", "Your role may not create posts");
  const { db, cache } = ctx;
  const nowMs = Date.now();
  const requestHash = await sha256Hex(
    JSON.stringify([input.title, input.content, input.status, input.description ?? "", input.tags ?? []]),
  );

  const replay = async (): Promise<CreateOutcome | undefined> => {
    if (!idempotency) return undefined;
    const stored = await findStoredResponse(db, actor.id, idempotency.key, nowMs);
    if (!stored) return undefined;
    if (stored.requestHash !== requestHash) {
      throw new ConflictError("Idempotency-Key was already used with a different body", {
        reason: "idempotency_key_reuse",
      });
    }
    // The first attempt may have died between its commit and its invalidation: redo it (the
    // new post's id does not matter here, nothing can have cached it before it existed).
    await cache.bump(retiredByNewPostOf(actor.id), "committed");
    return { kind: "replayed", storedBody: stored.body };
  };

  const replayed = await replay();
  if (replayed) return replayed;

  const author = await findUserById(db, actor.id);
  if (!author) throw new AuthenticationError("Account no longer exists");
  await assertMayPublish(ctx, author, { from: null, to: input.status });
  const now = isoNow(nowMs);
  const id = newId(nowMs);
  const post: PostWithAuthor = {
    post: {
      id,
      authorId: actor.id,
      slug: slugFor(input.title, id),
      title: input.title,
      description: input.description ?? "",
      content: input.content,
      status: input.status,
      createdAt: now,
      updatedAt: now,
      publishedAt: input.status === "published" ? now : null,
      version: 1,
    },
    authorName: author.name,
  };
  const write = async () => {
    // One batch: the post, its tags and the record of its response commit together or not at all.
    const record = idempotency && { requestHash, status: 201, body: idempotency.render(post) };
    await db.batch([
      db.insert(posts).values(post.post),
      ...setTagsStatements(db, id, input.tags ?? [], false),
      ...(idempotency && record ? recordResponseStatements(db, actor.id, idempotency.key, record, nowMs) : []),
    ]);
  };
  try {
    await writeThenRetire(cache, write, (result) =>
      retiredByPostWrite(post.post, null, result.kind === "committed" ? post.post.status : "unknown"),
    );
  } catch (error) {
    // A concurrent request with the same key won the race: answer as its replay would.
    const raced = idempotency && isUniqueViolation(error) ? await replay() : undefined;
    if (raced) return raced;
    throw error;
  }
  return { kind: "created", post };
}

/**
 * Changes a post the actor may see and edit. With `ifMatch` (the ETag the client read) the
 * change only happens if nobody changed the post since, checked again inside the UPDATE.
 */
export async function editPost(
  ctx: DomainContext,
  actor: UserActor,
  id: string,
  changes: PostChanges,
  ifMatch?: string,
): Promise<PostWithAuthor> {
  const found = await findVisiblePost(ctx, actor, id);
  authorize(actor, editAction(actor, found.post), "You may not edit this post");
  await assertMayPublish(ctx, actor.id, { from: found.post.status, to: changes.status });
  const stale = (current: PostWithAuthor) =>
    new PreconditionFailedError("The post changed since you read it", { current_etag: postEtag(current) });
  if (ifMatch !== undefined && !ifMatchHolds(ifMatch, postEtag(found))) throw stale(found);
  const expectedVersion = ifMatch === undefined ? undefined : found.post.version;
  const { tags, ...columns } = changes;
  // The tag statements would run even when the version check stops the update, so the two never
  // come together (no surface sends both: /v1 has no tags, /api no If-Match).
  if (tags !== undefined && expectedVersion !== undefined) throw new Error("tags cannot change under If-Match");
  const tagStatements = tags === undefined ? [] : setTagsStatements(ctx.db, id, tags, true);
  const updated = await writeThenRetire(
    ctx.cache,
    () => updatePost(ctx.db, id, columns, expectedVersion, isoNow(), tagStatements),
    (result) => {
      if (result.kind === "unknown") return retiredByPostWrite(found.post, found.post.status, "unknown");
      return result.value ? retiredByPostWrite(found.post, found.post.status, result.value.status) : [];
    },
  );
  if (!updated) {
    const current = ifMatch === undefined ? undefined : await findPostWithAuthor(ctx.db, id);
    if (current) throw stale(current);
    throw NotFoundError.resource("post", id);
  }
  return { post: updated, authorName: found.authorName };
}

/** Hard delete: admins only (everyone else archives instead). */
export async function deletePostForGood(ctx: DomainContext, actor: UserActor, id: string): Promise<void> {
  const found = await findVisiblePost(ctx, actor, id);
  authorize(actor, "post:delete", "Only admins delete posts; archive it instead");
  const deleted = await writeThenRetire(
    ctx.cache,
    () => deletePost(ctx.db, id),
    (result) =>
      result.kind === "unknown" || result.value
        ? retiredByPostWrite(found.post, found.post.status, result.kind === "unknown" ? "unknown" : null)
        : [],
  );
  if (!deleted) throw NotFoundError.resource("post", id);
}

/** A page of the posts the actor may see (one more than `limit`, to tell whether more follow). */
export function visiblePosts(
  ctx: DomainContext,
  actor: Actor,
  filter: PostFilter,
  cursor: Cursor | undefined,
  limit: number,
): Promise<PostWithAuthor[]> {
  return listPosts(ctx.db, postScope(actor), filter, cursor, limit);
}

/** The same for one author's posts; 404 when the author does not exist. */
export async function visiblePostsOf(
  ctx: DomainContext,
  actor: Actor,
  authorId: string,
  status: PostStatus | undefined,
  cursor: Cursor | undefined,
  limit: number,
): Promise<PostWithAuthor[]> {
  const rows = await listPostsOfAuthor(ctx.db, postScope(actor), authorId, status, cursor, limit);
  if (!rows) throw NotFoundError.resource("user", authorId);
  return rows;
}

/**
 * REQUIRE_VERIFIED_EMAIL: creating a post, or publishing one (a change that makes a post
 * published), needs a verified email (403). `user` is the caller's row when the handler has it,
 * else its id: the row is then read only when the setting is on and the change publishes.
 */
export async function assertMayPublish(
  { settings, db }: Pick<DomainContext, "settings" | "db">,
  user: Pick<UserRow, "emailVerifiedAt"> | string,
  change: { from: PostStatus | null; to?: PostStatus | undefined },
): Promise<void> {
  if (!settings.REQUIRE_VERIFIED_EMAIL) return;
  const creates = change.from === null;
  const publishes = change.to === "published" && change.from !== "published";
  if (!creates && !publishes) return;
  const row = typeof user === "string" ? await findUserById(db, user) : user;
  if (row?.emailVerifiedAt == null) {
    throw new PermissionError("Verify your email address before creating or publishing posts", {
      reason: "email_not_verified",
    });
  }
}
