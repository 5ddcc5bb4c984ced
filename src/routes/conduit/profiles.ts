import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { dependencies } from "../../cache/invalidation";
import { cacheKeys } from "../../cache/keys";
import { serveItem } from "../../cache/read-through";
import { findProfileOf, followProfile, unfollowProfile } from "../../domain/profiles";
import { requireUser } from "../../middleware/auth";
import { userWriteLimit } from "../../middleware/rate-limit";
import { validate } from "../../middleware/validate";
import { describeRoute } from "../../openapi/annotations";
import { PUBLIC_READ_HEADERS } from "../../openapi/responses";
import { profileResponseSchema, usernameParamSchema } from "../../schemas/conduit";
import { toProfile } from "./render";

const PROFILE_RESPONSE = { status: 200, description: "The profile", schema: profileResponseSchema } as const;

export const conduitProfileRoutes = new Hono<AppEnv>()
  .get(
    "/:username",
    describeRoute({
      summary: "Get a profile",
      description: "`following` is whether the caller follows this user (false when anonymous).",
      tag: "conduit",
      auth: "optional",
      success: { ...PROFILE_RESPONSE, headers: PUBLIC_READ_HEADERS },
      errors: [404],
      conditionalGet: true,
    }),
    validate("param", usernameParamSchema),
    async (c) => {
      const { username } = c.req.valid("param");
      return serveItem(c, {
        key: cacheKeys.profile(username),
        known: [],
        load: () => findProfileOf(c.var.domain, c.var.actor, username),
        dependsOn: (profile) => dependencies.profile(profile.id),
        render: (profile) => ({ profile: toProfile(profile) }),
        // `following` depends on the viewer.
        sharedWith: "anonymous",
      });
    },
  )
  .post(
    "/:username/follow",
    describeRoute({
      summary: "Follow a user",
      description: "Idempotent. A request body, if any, is ignored.",
      tag: "conduit",
      auth: "required",
      success: PROFILE_RESPONSE,
      errors: [404, 422, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", usernameParamSchema),
    async (c) => {
      const profile = await followProfile(c.var.domain, c.var.user, c.req.valid("param").username);
      return c.json({ profile: toProfile(profile) });
    },
  )
  .delete(
    "/:username/follow",
    describeRoute({
      summary: "Unfollow a user",
      description: "Idempotent.",
      tag: "conduit",
      auth: "required",
      success: PROFILE_RESPONSE,
      errors: [404, 422, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", usernameParamSchema),
    async (c) => {
      const profile = await unfollowProfile(c.var.domain, c.var.user, c.req.valid("param").username);
      return c.json({ profile: toProfile(profile) });
    },
  );
