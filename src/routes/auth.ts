import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { authTimeOf, hashRefreshToken, newRefreshToken, tokenPairBody } from "../auth/token-pair";
import { claimForRotation, findRefreshTokenByHash, insertIntoLiveFamily, revokeFamily } from "../db/refresh-tokens";
import { refreshTokens } from "../db/schema";
import { findUserById } from "../db/users";
import {
  confirmEmailVerification,
  confirmPasswordReset,
  requestEmailVerification,
  requestPasswordReset,
} from "../domain/account-recovery";
import { logIn, register } from "../domain/sessions";
import { AuthenticationError } from "../errors";
import { isoNow, newId } from "../lib/ids";
import { authenticate, requireUser } from "../middleware/auth";
import { jsonBody } from "../middleware/json-body";
import {
  clientIp,
  enforcePasswordAttemptLimits,
  enforceRateLimit,
  rateLimit,
  withinRateLimit,
} from "../middleware/rate-limit";
import { validate } from "../middleware/validate";
import { describeRoute } from "../openapi/annotations";
import {
  acceptedSchema,
  emailVerificationConfirmSchema,
  loginSchema,
  passwordResetConfirmSchema,
  passwordResetRequestSchema,
  refreshTokenSchema,
  registerSchema,
  tokenPairSchema,
} from "../schemas/auth";
import { accountDeps } from "./account-deps";

const INVALID_REFRESH_TOKEN = "Invalid or expired refresh token";
const ACCEPTED = { status: "accepted" } as const;

export const authRoutes = new Hono<AppEnv>()
  .post(
    "/register",
    describeRoute({
      summary: "Register",
      description: "Everyone registers with role `user`. Answers with a token pair.",
      tag: "auth",
      auth: "none",
      success: { status: 201, description: "Registered", schema: tokenPairSchema },
      errors: [409, 429],
    }),
    rateLimit("REGISTER_IP_LIMITER", clientIp),
    jsonBody(),
    validate("json", registerSchema),
    async (c) => {
      const { settings } = c.var;
      let refreshToken = "";
      let signedInAtMs = 0;
      // Signing up sets the password: it counts as a password sign-in.
      const user = await register(c.var.domain, c.req.valid("json"), async (userId, nowMs) => {
        const refresh = await newRefreshToken(settings, userId, newId(nowMs), isoNow(nowMs), nowMs);
        refreshToken = refresh.token;
        signedInAtMs = nowMs;
        return [c.var.db.insert(refreshTokens).values(refresh.row)];
      });
      return c.json(await tokenPairBody(settings, user, refreshToken, signedInAtMs), 201);
    },
  )
  .post(
    "/login",
    describeRoute({
      summary: "Log in",
      tag: "auth",
      auth: "none",
      success: { status: 200, description: "A new token pair", schema: tokenPairSchema },
      errors: [401, 429],
    }),
    rateLimit("LOGIN_IP_LIMITER", clientIp),
    jsonBody(),
    validate("json", loginSchema),
    async (c) => {
      const { email, password } = c.req.valid("json");
      const { db, settings } = c.var;
      await enforcePasswordAttemptLimits(c, email);
      const user = await logIn(c.var.domain, email, password);
      c.var.log.userId = user.id;
      const signedInAtMs = Date.now();
      const refresh = await newRefreshToken(settings, user.id, newId(signedInAtMs), isoNow(signedInAtMs), signedInAtMs);
      await db.insert(refreshTokens).values(refresh.row);
      return c.json(await tokenPairBody(settings, user, refresh.token, signedInAtMs), 200);
    },
  )
  .post(
    "/refresh",
    describeRoute({
      summary: "Refresh tokens",
      description: "Rotates the refresh token. Presenting an already-used refresh token revokes its whole family.",
      tag: "auth",
      auth: "none",
      success: { status: 200, description: "A new token pair", schema: tokenPairSchema },
      errors: [401, 429],
    }),
    rateLimit("REFRESH_IP_LIMITER", clientIp),
    jsonBody(),
    validate("json", refreshTokenSchema),
    async (c) => {
      const { refresh_token } = c.req.valid("json");
      const { db, settings } = c.var;
      const now = isoNow();
      const stored = await findRefreshTokenByHash(db, await hashRefreshToken(refresh_token));
      if (!stored || stored.revokedAt !== null || stored.expiresAt <= now) {
        throw new AuthenticationError(INVALID_REFRESH_TOKEN);
      }
      // A token that was already exchanged is being replayed: end the whole refresh-token family.
      if (stored.rotatedAt !== null || !(await claimForRotation(db, stored.id, now))) {
        await revokeFamily(db, stored.familyId, now);
        throw new AuthenticationError(INVALID_REFRESH_TOKEN);
      }
      const user = await findUserById(db, stored.userId);
      if (!user?.isActive) {
        await revokeFamily(db, stored.familyId, now);
        throw new AuthenticationError(INVALID_REFRESH_TOKEN);
      }
      c.var.log.userId = user.id;
      // A refresh proves the refresh token, not the password: the sign-in time is carried over.
      const refresh = await newRefreshToken(settings, user.id, stored.familyId, stored.authenticatedAt);
      // Signed before the insert, so a revocation racing this refresh also covers its access token.
      const body = await tokenPairBody(settings, user, refresh.token, authTimeOf(stored.authenticatedAt));
      if (!(await insertIntoLiveFamily(db, refresh.row))) {
        await revokeFamily(db, stored.familyId, now);
        throw new AuthenticationError(INVALID_REFRESH_TOKEN);
      }
      return c.json(body, 200);
    },
  )
  .post(
    "/logout",
    describeRoute({
      summary: "Log out",
      description: "Ends the refresh-token family (this sign-in) of the given refresh token.",
      tag: "auth",
      auth: "required",
      success: { status: 204, description: "Logged out" },
      errors: [],
    }),
    authenticate,
    requireUser,
    jsonBody(),
    validate("json", refreshTokenSchema),
    async (c) => {
      const { refresh_token } = c.req.valid("json");
      const actor = c.var.user;
      const stored = await findRefreshTokenByHash(c.var.db, await hashRefreshToken(refresh_token));
      // Someone else's or an unknown token is left alone, but the answer is the same: nothing leaks.
      if (stored && stored.userId === actor.id) await revokeFamily(c.var.db, stored.familyId, isoNow());
      return c.body(null, 204);
    },
  )
  .post(
    "/password-reset",
    describeRoute({
      summary: "Request a password reset",
      description:
        "Mails a reset link (30 min) to an active account. The same answer, as fast, for any address; over the per-address limit nothing is sent.",
      tag: "auth",
      auth: "none",
      success: { status: 202, description: "Accepted", schema: acceptedSchema },
      errors: [429],
    }),
    rateLimit("PASSWORD_RESET_IP_LIMITER", clientIp),
    jsonBody(),
    validate("json", passwordResetRequestSchema),
    async (c) => {
      const { email } = c.req.valid("json");
      // Over the per-address limit the answer does not change: it would tell which emails exist.
      const mayMail = await withinRateLimit(c, "PASSWORD_RESET_EMAIL_LIMITER", email);
      await requestPasswordReset(accountDeps(c), email, mayMail);
      return c.json(ACCEPTED, 202);
    },
  )
  .post(
    "/password-reset/confirm",
    describeRoute({
      summary: "Reset the password",
      description: "Sets the new password and ends every session. A bad token is a 400 on `token`.",
      tag: "auth",
      auth: "none",
      success: { status: 204, description: "Password changed; log in with it" },
      errors: [],
    }),
    jsonBody(),
    validate("json", passwordResetConfirmSchema),
    async (c) => {
      const { token, password } = c.req.valid("json");
      await confirmPasswordReset(accountDeps(c), token, password);
      return c.body(null, 204);
    },
  )
  .post(
    "/email-verification",
    describeRoute({
      summary: "Request email verification",
      description: "Mails a verification link (24 h); nothing if already verified.",
      tag: "auth",
      auth: "required",
      success: { status: 202, description: "Accepted", schema: acceptedSchema },
      errors: [429],
    }),
    authenticate,
    requireUser,
    rateLimit("EMAIL_VERIFICATION_IP_LIMITER", clientIp),
    async (c) => {
      const deps = accountDeps(c);
      const user = await findUserById(deps.db, c.var.user.id);
      if (!user) throw new AuthenticationError("Account no longer exists");
      await enforceRateLimit(c, "EMAIL_VERIFICATION_EMAIL_LIMITER", user.email);
      await requestEmailVerification(deps, user);
      return c.json(ACCEPTED, 202);
    },
  )
  .post(
    "/email-verification/confirm",
    describeRoute({
      summary: "Verify the email address",
      description: "A bad token is a 400 on `token`.",
      tag: "auth",
      auth: "none",
      success: { status: 204, description: "Email verified" },
      errors: [],
    }),
    jsonBody(),
    validate("json", emailVerificationConfirmSchema),
    async (c) => {
      await confirmEmailVerification(accountDeps(c), c.req.valid("json").token);
      return c.body(null, 204);
    },
  );
