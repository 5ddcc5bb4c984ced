import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { signAccessToken } from "../../auth/access-token";
import type { Settings } from "../../config";
import type { UserRow } from "../../db/schema";
import { changeOwnAccount, ownAccount } from "../../domain/accounts";
import { logIn, register } from "../../domain/sessions";
import { requireUser } from "../../middleware/auth";
import { jsonBody } from "../../middleware/json-body";
import { clientIp, enforcePasswordAttemptLimits, rateLimit, userWriteLimit } from "../../middleware/rate-limit";
import { validate } from "../../middleware/validate";
import { describeRoute } from "../../openapi/annotations";
import { loginUserSchema, newUserSchema, updateUserSchema, userResponseSchema } from "../../schemas/conduit";
import { accountDeps } from "../account-deps";
import { toConduitUser } from "./render";

const USER_RESPONSE = { description: "The user, with a token", schema: userResponseSchema };

/** The token of a password sign-in (or sign-up) that happens now. */
function signedInToken(settings: Settings, user: UserRow): Promise<string> {
  const nowMs = Date.now();
  return signAccessToken(settings, { id: user.id, role: user.role, authTimeMs: nowMs }, nowMs);
}

/** Sign-up, sign-in and the current user. Same accounts, tokens and limits as `/v1`. */
export const conduitUserRoutes = new Hono<AppEnv>()
  .post(
    "/users",
    describeRoute({
      summary: "Register",
      description: "Creates a `user` account with a unique username. No refresh token on this surface.",
      tag: "conduit",
      auth: "none",
      success: { status: 201, ...USER_RESPONSE },
      errors: [422, 429],
    }),
    rateLimit("REGISTER_IP_LIMITER", clientIp),
    jsonBody(),
    validate("json", newUserSchema),
    async (c) => {
      const { username, email, password } = c.req.valid("json").user;
      const user = await register(c.var.domain, { email, password, username, name: username });
      return c.json({ user: toConduitUser(user, await signedInToken(c.var.settings, user)) }, 201);
    },
  )
  .post(
    "/users/login",
    describeRoute({
      summary: "Log in",
      tag: "conduit",
      auth: "none",
      success: { status: 200, ...USER_RESPONSE },
      errors: [401, 422, 429],
    }),
    rateLimit("LOGIN_IP_LIMITER", clientIp),
    jsonBody(),
    validate("json", loginUserSchema),
    async (c) => {
      const { email, password } = c.req.valid("json").user;
      await enforcePasswordAttemptLimits(c, email);
      const user = await logIn(c.var.domain, email, password);
      c.var.log.userId = user.id;
      return c.json({ user: toConduitUser(user, await signedInToken(c.var.settings, user)) });
    },
  )
  .get(
    "/user",
    describeRoute({
      summary: "Current user",
      tag: "conduit",
      auth: "required",
      success: { status: 200, ...USER_RESPONSE },
      errors: [],
    }),
    requireUser,
    async (c) => {
      const user = await ownAccount(c.var.domain, c.var.user);
      // The spec hands the current token back.
      return c.json({ user: toConduitUser(user, c.var.credentials.token) });
    },
  )
  .put(
    "/user",
    describeRoute({
      summary: "Update current user",
      description:
        "A new password or email needs a password sign-in in the last 5 minutes (the token's `auth_time`; a refreshed token keeps its sign-in's time): sign in again. Either change ends every session, this one included; the response then carries a new token. A new email is unverified again, and the old address is told.",
      tag: "conduit",
      auth: "required",
      success: { status: 200, ...USER_RESPONSE },
      errors: [422, 429],
    }),
    requireUser,
    userWriteLimit,
    jsonBody(),
    validate("json", updateUserSchema),
    async (c) => {
      const { user: actor, settings, credentials } = c.var;
      const changes = c.req.valid("json").user;
      const proof = { kind: "recent-sign-in", signedInAtMs: credentials.authTimeMs } as const;
      const changed = await changeOwnAccount(accountDeps(c), actor, credentials.issuedAtMs, changes, proof);
      const { user, tokensRevokedAtMs } = changed;
      // The old token was just revoked: the new one must be issued after the marker's millisecond.
      // It keeps the sign-in's time: changing the password is not signing in again.
      const token =
        tokensRevokedAtMs === undefined
          ? credentials.token
          : await signAccessToken(
              settings,
              { id: user.id, role: user.role, authTimeMs: credentials.authTimeMs },
              Math.max(Date.now(), tokensRevokedAtMs + 1),
            );
      return c.json({ user: toConduitUser(user, token) });
    },
  );
