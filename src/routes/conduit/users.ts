import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { signAccessToken } from "../../auth/access-token";
import type { Settings } from "../../config";
import { changeOwnAccount, ownAccount } from "../../domain/accounts";
import { logIn, register, type SignedIn } from "../../domain/sessions";
import { requireUser } from "../../middleware/auth";
import { jsonBody } from "../../middleware/json-body";
import { clientIp, enforcePasswordAttemptLimits, rateLimit, userWriteLimit } from "../../middleware/rate-limit";
import { validate } from "../../middleware/validate";
import { describeRoute } from "../../openapi/annotations";
import { loginUserSchema, newUserSchema, updateUserSchema, userResponseSchema } from "../../schemas/conduit";
import { accountDeps } from "../account-deps";
import { toConduitUser } from "./render";

const USER_RESPONSE = { description: "The user, with a token", schema: userResponseSchema };

/** A RealWorld token: long-lived (RealWorld clients have no refresh flow), revocable at once. */
function conduitToken(settings: Settings, signedIn: SignedIn): Promise<string> {
  const { user, authTimeMs, sessionVersion } = signedIn;
  return signAccessToken(settings, { id: user.id, role: user.role, authTimeMs, sessionVersion }, "conduit");
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
      const signedIn = await register(c.var.domain, { email, password, username, name: username });
      return c.json({ user: toConduitUser(signedIn.user, await conduitToken(c.var.settings, signedIn)) }, 201);
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
      const signedIn = await logIn(c.var.domain, email, password);
      c.var.log.userId = signedIn.user.id;
      return c.json({ user: toConduitUser(signedIn.user, await conduitToken(c.var.settings, signedIn)) });
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
        "A new password or email needs a password sign-in in the last 5 minutes, and ends every session (the answer carries a new token).",
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
      const changed = await changeOwnAccount(accountDeps(c), actor, credentials.sessionVersion, changes, proof);
      const { user, sessionVersion } = changed;
      // The old token was just revoked: the new one is signed under the new session version. It
      // keeps the sign-in's time: changing the password is not signing in again.
      const token =
        sessionVersion === undefined
          ? credentials.token
          : await conduitToken(settings, { user, authTimeMs: credentials.authTimeMs, sessionVersion });
      return c.json({ user: toConduitUser(user, token) });
    },
  );
