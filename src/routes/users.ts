import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { dependencies } from "../cache/invalidation";
import { normaliseQuery, serveList } from "../cache/read-through";
import {
  changeOwnAccount,
  deleteOwnAccount,
  listAccounts,
  manageUser,
  ownAccount,
  removeUser,
  viewUser,
} from "../domain/accounts";
import { visiblePostsOf } from "../domain/posts";
import { toPage } from "../lib/pagination";
import { requireUser } from "../middleware/auth";
import { jsonBody } from "../middleware/json-body";
import { enforcePasswordAttemptLimits, userWriteLimit } from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/annotations";
import { POST_PAGE_RESPONSE } from "../openapi/responses";
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
import { accountDeps } from "./account-deps";

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
    async (c) => c.json(toUserJson(await ownAccount(c.var.domain, c.var.user))),
  )
  .patch(
    "/me",
    describeRoute({
      summary: "Update my account",
      description:
        "A new `password` needs the right `current_password` (rate-limited as a login) and ends every session.",
      tag: "users",
      auth: "required",
      success: { status: 200, description: "Your updated account", schema: userSchema },
      errors: [429],
    }),
    requireUser,
    userWriteLimit,
    jsonBody(),
    validate("json", updateMeSchema),
    async (c) => {
      const { name, password, current_password } = c.req.valid("json");
      const changes = { name, password, currentPassword: current_password };
      const proof = {
        kind: "current-password",
        throttle: (email: string) => enforcePasswordAttemptLimits(c, email),
      } as const;
      const { user } = await changeOwnAccount(
        accountDeps(c),
        c.var.user,
        c.var.credentials.sessionVersion,
        changes,
        proof,
      );
      return c.json(toUserJson(user));
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
      errors: [409, 429],
    }),
    requireUser,
    userWriteLimit,
    async (c) => {
      await deleteOwnAccount(c.var.domain, c.var.user);
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
      const { role, is_active, email, cursor, limit } = c.req.valid("query");
      const filter = { role, isActive: is_active, emailPrefix: email };
      const rows = await listAccounts(c.var.domain, c.var.user, filter, cursor, limit);
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
      const seen = await viewUser(c.var.domain, c.var.actor, id);
      return c.json(seen.kind === "full" ? toUserJson(seen.user) : toPublicProfile(seen.user));
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
      errors: [403, 404, 409, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", idParamSchema),
    jsonBody(),
    validate("json", adminUpdateUserSchema),
    async (c) => {
      const { name, role, is_active } = c.req.valid("json");
      const changes = { name, role, isActive: is_active };
      return c.json(toUserJson(await manageUser(c.var.domain, c.var.user, c.req.valid("param").id, changes)));
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
      errors: [403, 404, 409, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", idParamSchema),
    async (c) => {
      await removeUser(c.var.domain, c.var.user, c.req.valid("param").id);
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
      const query = c.req.valid("query");
      const { status, cursor, limit } = query;
      return serveList(c, normaliseQuery(`users/${id}/posts`, query), dependencies.authorList(id), async () => {
        const rows = await visiblePostsOf(c.var.domain, c.var.actor, id, status, cursor, limit);
        return toPage(rows, limit, ({ post }) => post, toPostJson);
      });
    },
  );
