import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { RateLimitError } from "../errors";
import { addWarning } from "../lib/log";
import type { WithUser } from "./auth";

/** The rate-limit bindings of wrangler.toml (limits and periods are configured there). */
export type LimiterName =
  | "LOGIN_IP_LIMITER"
  | "LOGIN_EMAIL_LIMITER"
  | "LOGIN_ACCOUNT_LIMITER"
  | "REGISTER_IP_LIMITER"
  | "REFRESH_IP_LIMITER"
  | "POST_WRITE_USER_LIMITER"
  | "PASSWORD_RESET_IP_LIMITER"
  | "PASSWORD_RESET_EMAIL_LIMITER"
  | "EMAIL_VERIFICATION_IP_LIMITER"
  | "EMAIL_VERIFICATION_EMAIL_LIMITER";

/**
 * The period of every limiter in wrangler.toml (each environment's `ratelimits`), so the longest
 * a refused client has to wait. test/node/wrangler-config.test.ts fails if a period differs.
 */
export const RETRY_AFTER_SECONDS = 60;

/** The client address Cloudflare saw; `wrangler dev` sets it too. */
export function clientIp<E extends AppEnv>(c: Context<E>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

/**
 * Counts one use of `key` against the named limiter: false once its budget is used up. A limiter
 * that errors lets the request through (logged): rate limiting protects, it must not take the API
 * down.
 */
export async function withinRateLimit<E extends AppEnv>(
  c: Context<E>,
  name: LimiterName,
  key: string,
): Promise<boolean> {
  try {
    return (await c.env[name].limit({ key: `${name}:${key}` })).success;
  } catch (error) {
    addWarning(c.var.log, `rate limiter ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return true;
  }
}

/** Throws 429 with `Retry-After` once `key` has used up the named limiter's budget. */
export async function enforceRateLimit<E extends AppEnv>(c: Context<E>, name: LimiterName, key: string): Promise<void> {
  if (!(await withinRateLimit(c, name, key))) throw new RateLimitError(RETRY_AFTER_SECONDS);
}

/** `enforceRateLimit` as a middleware, for keys known before the body is read. */
export function rateLimit<E extends AppEnv = AppEnv>(name: LimiterName, key: (c: Context<E>) => string) {
  return createMiddleware<E>(async (c, next) => {
    await enforceRateLimit(c, name, key(c));
    await next();
  });
}

/**
 * Every check of a password against an account (login on either surface, the current password of
 * `PATCH /v1/users/me`) spends one attempt of two budgets, before the check:
 * - per account and client address (`LOGIN_EMAIL_LIMITER`, strict): guessing from one address is
 *   slow, and someone else's guesses never spend the owner's budget at the owner's address;
 * - per account across addresses (`LOGIN_ACCOUNT_LIMITER`, looser): a ceiling for guessing from
 *   many addresses. Only past it can strangers keep the owner out, and reaching it takes many
 *   addresses, each within its own strict budget and the per-address login limit.
 * Attempts are counted, not only failures: the Rate Limiting binding cannot look without counting,
 * and counting only failures would let a guesser try on and learn the right guess by its 200.
 */
export async function enforcePasswordAttemptLimits<E extends AppEnv>(c: Context<E>, email: string): Promise<void> {
  await enforceRateLimit(c, "LOGIN_EMAIL_LIMITER", `${email}|${clientIp(c)}`);
  await enforceRateLimit(c, "LOGIN_ACCOUNT_LIMITER", email);
}

/**
 * After `requireUser`: the signed-in user's write budget, shared by `/v1` post writes and every
 * RealWorld write, post edits and deletes and account changes included. Each of them moves KV
 * generations, which take one write per second per key.
 */
export const userWriteLimit = rateLimit<WithUser>("POST_WRITE_USER_LIMITER", (c) => c.var.user.id);
