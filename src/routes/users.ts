import { sql } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { hashPassword, verifyPassword } from "../auth/password";
import { revokeAccessTokens } from "../auth/revocation";
import { dependencies, retiredByAuthorChange, type WriteResult, writeThenRetire } from "../cache/invalidation";
import { normaliseQuery, serveList } from "../cache/read-through";
import { listPostsOfAuthor } from "../db/posts";
import { revokeAllForUser } from "../db/refresh-tokens";
import { users } from "../db/schema";
import {
  deleteUserGuarded,
  findUserById,
  type GuardedResult,
  listUsers,
  type UserChanges,
  updateUserGuarded,
} from "../db/users";
import { AuthenticationError, ConflictError, NotFoundError } from "../errors";
import { encodeCursor } from "../lib/cursor";
import { isoNow } from "../lib/ids";
import { toPage } from "../lib/pagination";
import { requireUser } from "../middleware/auth";
import { jsonBody } from "../middleware/json-body";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/annotations";
import { POST_PAGE_RESPONSE } from "../openapi/responses";
import { authorize, can, postScope } from "../permissions";
import { toPostJson, toPublicProfile, toUserJson } from "../projections";
import { idParamSchema, pageSchema } from "../schemas/common";
import { listUserPostsQuerySchema } from "../schemas/posts";
import {
  adminUpdateUserSchema,
  listUsersQuerySchema,
  publicProfileSchema,
  updateMeSchema,
  userSchema,
} from "../schemas/users";

const LAST_ADMIN = "The last active admin cannot be demoted, deactivated or deleted";

/**
 * What a write to user `id` retires from the read cache: the author's cached posts and lists,
 * when the public name changed (`nameBefore`) or the user went away (no `nameBefore`), or when
 * the write's outcome is unknown.
 */
function retiredByUserWrite(id: string, nameBefore?: string) {
  return (result: WriteResult<GuardedResult<{ name: string }>>) => {
    const changed =
      result.kind === "unknown" ||
      (result.value.kind === "ok" && (nameBefore === undefined || result.value.value.name !== nameBefore));
    return changed ? retiredByAuthorChange(id) : [];
  };
}

export const userRoutes = new Hono<AppEnv>()
  .get(
    "/me",
    describeRoute({
      summary: "Get my account",
      tag: "users",
      auth: "required",
      success: { status: 200, description: "Your account", schema: userSchema },
      errors: [],
    }),
    requireUser,
    async (c) => {
      const actor = c.var.user;
      const user = await findUserById(c.var.db, actor.id);
      if (!user) throw new AuthenticationError("Account no longer exists");
      return c.json(toUserJson(user));
    },
  )
  .patch(
    "/me",
    describeRoute({
      summary: "Update my account",
      description: "A new `password` needs the right `current_password` and ends every session, this one included.",
      tag: "users",
      auth: "required",
      success: { status: 200, description: "Your updated account", schema: userSchema },
      errors: [],
    }),
    requireUser,
    jsonBody(),
    validate("json", updateMeSchema),
    async (c) => {
      const body = c.req.valid("json");
      const actor = c.var.user;
      const { db, settings } = c.var;
      const user = await findUserById(db, actor.id);
      if (!user) throw new AuthenticationError("Account no longer exists");
      const changes: UserChanges = {};
      if (body.name !== undefined) changes.name = body.name;
      if (body.password !== undefined && (await verifyPassword(body.current_password ?? "", user.passwordHash))) {
        changes.passwordHash = await hashPassword(body.password);
      } else if (body.password !== undefined && !(await verifyPassword(body.password, user.passwordHash))) {
        throw new AuthenticationError("Current password is incorrect");
      }
      // Otherwise the new password is already the current one: this repeats a change whose
      // token revocation did not complete, and completes it below.
      const now = isoNow();
      const endSessions = changes.passwordHash ? [revokeAllForUser(db, actor.id, now)] : [];
      const result = await writeThenRetire(
        c.var.cache,
        () => updateUserGuarded(db, actor.id, changes, now, endSessions),
        retiredByUserWrite(actor.id, user.name),
      );
      if (result.kind !== "ok") throw new AuthenticationError("Account no longer exists");
      if (body.password !== undefined) {
        // A new password ends every session, this one included; timed after the commit above.
        await revokeAccessTokens(c.env.KV, actor.id, settings.ACCESS_TOKEN_TTL_SECONDS, Date.now());
      }
      return c.json(toUserJson(result.value));
    },
  )
  .delete(
    "/me",
    describeRoute({
      summary: "Delete my account",
      description: "Deletes the account and its posts. The last active admin cannot (409).",
      tag: "users",
      auth: "required",
      success: { status: 204, description: "Deleted" },
      errors: [409],
    }),
    requireUser,
    async (c) => {
      const actor = c.var.user;
      const result = await writeThenRetire(
        c.var.cache,
        () => deleteUserGuarded(c.var.db, actor.id),
        retiredByUserWrite(actor.id),
      );
      if (result.kind === "last-admin") throw new ConflictError(LAST_ADMIN, { reason: "last_admin" });
      // Also when the account is already gone: this may repeat a deletion whose revocation failed.
      await revokeAccessTokens(c.env.KV, actor.id, c.var.settings.ACCESS_TOKEN_TTL_SECONDS, Date.now());
      if (result.kind === "not-found") throw new AuthenticationError("Account no longer exists");
      return c.body(null, 204);
    },
  )
  .get(
    "/",
    describeRoute({
      summary: "List users",
      description: "Admins only. Newest first, keyset-paginated; filter by role, is_active or email prefix.",
      tag: "users",
      auth: "required",
      success: { status: 200, description: "A page of users", schema: pageSchema(userSchema) },
      errors: [403],
    }),
    requireUser,
    validate("query", listUsersQuerySchema),
    async (c) => {
      authorize(c.var.user, "user:list");
      const { role, is_active, email, cursor, limit } = c.req.valid("query");
      const rows = await listUsers(c.var.db, { role, isActive: is_active, emailPrefix: email }, cursor, limit);
      return c.json(toPage(rows, limit, (row) => row, toUserJson));
    },
  )
  .get(
    "/:id",
    describeRoute({
      summary: "Get a user",
      description: "Admins get the full user; everyone else the public profile `{id, name}`.",
      tag: "users",
      auth: "optional",
      success: {
        status: 200,
        description: "The user or its public profile",
        schema: z.union([userSchema, publicProfileSchema]),
      },
      errors: [404],
    }),
    validate("param", idParamSchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const user = await findUserById(c.var.db, id);
      if (!user) throw NotFoundError.resource("user", id);
      return c.json(can(c.var.actor, "user:read:full") ? toUserJson(user) : toPublicProfile(user));
    },
  )
  .patch(
    "/:id",
    describeRoute({
      summary: "Update a user",
      description: "Admins only: name, role, is_active. Role changes and deactivation revoke the user's tokens.",
      tag: "users",
      auth: "required",
      success: { status: 200, description: "The updated user", schema: userSchema },
      errors: [403, 404, 409],
    }),
    requireUser,
    validate("param", idParamSchema),
    jsonBody(),
    validate("json", adminUpdateUserSchema),
    async (c) => {
      authorize(c.var.user, "user:manage");
      const { id } = c.req.valid("param");
      const { name, role, is_active } = c.req.valid("json");
      const { db, settings } = c.var;
      const changes: UserChanges = {};
      if (name !== undefined) changes.name = name;
      if (role !== undefined) changes.role = role;
      if (is_active !== undefined) changes.isActive = is_active;
      const before = await findUserById(db, id);
      if (!before) throw NotFoundError.resource("user", id);
      const now = isoNow();
      // Deactivation ends the user's sessions in the same batch, if the guarded update happened.
      const endSessions = is_active === false ? [revokeAllForUser(db, id, now, sql`${users.isActive} = 0`)] : [];
      const result = await writeThenRetire(
        c.var.cache,
        () => updateUserGuarded(db, id, changes, now, endSessions),
        retiredByUserWrite(id, before.name),
      );
      if (result.kind === "not-found") throw NotFoundError.resource("user", id);
      if (result.kind === "last-admin") throw new ConflictError(LAST_ADMIN, { reason: "last_admin" });
      if (role !== undefined || is_active !== undefined) {
        // Tokens carry the role, so a role change or deactivation must retire the ones out there.
        // Written whenever the request names them, so repeating a request whose revocation
        // failed completes it.
        await revokeAccessTokens(c.env.KV, id, settings.ACCESS_TOKEN_TTL_SECONDS, Date.now());
      }
      return c.json(toUserJson(result.value));
    },
  )
  .delete(
    "/:id",
    describeRoute({
      summary: "Delete a user",
      description: "Admins only; the user's posts are deleted with it.",
      tag: "users",
      auth: "required",
      success: { status: 204, description: "Deleted" },
      errors: [403, 404, 409],
    }),
    requireUser,
    validate("param", idParamSchema),
    async (c) => {
      authorize(c.var.user, "user:manage");
      const { id } = c.req.valid("param");
      const result = await writeThenRetire(c.var.cache, () => deleteUserGuarded(c.var.db, id), retiredByUserWrite(id));
      if (result.kind === "last-admin") throw new ConflictError(LAST_ADMIN, { reason: "last_admin" });
      // Also when the user is already gone: this may repeat a deletion whose revocation failed.
      await revokeAccessTokens(c.env.KV, id, c.var.settings.ACCESS_TOKEN_TTL_SECONDS, Date.now());
      if (result.kind === "not-found") throw NotFoundError.resource("user", id);
      return c.body(null, 204);
    },
  )
  .get(
    "/:id/posts",
    describeRoute({
      summary: "List a user's posts",
      description: "Same paging and visibility as `GET /v1/posts`.",
      tag: "posts",
      auth: "optional",
      success: POST_PAGE_RESPONSE,
      errors: [404],
      conditionalGet: true,
    }),
    validate("param", idParamSchema),
    validate("query", listUserPostsQuerySchema),
    async (c) => {
      const { id } = c.req.valid("param");
      const { status, cursor, limit } = c.req.valid("query");
      const key = normaliseQuery(`users/${id}/posts`, { status, cursor: cursor && encodeCursor(cursor), limit });
      return serveList(c, key, dependencies.authorList(id), async () => {
        const rows = await listPostsOfAuthor(c.var.db, postScope(c.var.actor), id, status, cursor, limit);
        if (!rows) throw NotFoundError.resource("user", id);
        return toPage(rows, limit, ({ post }) => post, toPostJson);
      });
    },
  );
