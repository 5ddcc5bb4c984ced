import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { tokenPairBody } from "../auth/token-pair";
import { findUserById } from "../db/users";
import {
  confirmEmailVerification,
  confirmPasswordReset,
  requestEmailVerification,
  requestPasswordReset,
} from "../domain/account-recovery";
import { logInWithRefresh, logOut, refreshSession, registerWithRefresh } from "../domain/sessions";
import { AuthenticationError } from "../errors";
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
      const signedIn = await registerWithRefresh(c.var.domain, c.req.valid("json"));
      return c.json(await tokenPairBody(c.var.settings, signedIn), 201);
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
      await enforcePasswordAttemptLimits(c, email);
      const signedIn = await logInWithRefresh(c.var.domain, email, password);
      c.var.log.userId = signedIn.user.id;
      return c.json(await tokenPairBody(c.var.settings, signedIn), 200);
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
      const signedIn = await refreshSession(c.var.domain, c.req.valid("json").refresh_token);
      c.var.log.userId = signedIn.user.id;
      return c.json(await tokenPairBody(c.var.settings, signedIn), 200);
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
      // Someone else's or an unknown token is left alone, but the answer is the same: nothing leaks.
      await logOut(c.var.domain, c.var.user, c.req.valid("json").refresh_token);
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
