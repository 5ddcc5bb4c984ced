import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { RateLimitError } from "../errors";
import { addWarning } from "../lib/log";

/** The rate-limit bindings of wrangler.toml (limits and periods are configured there). */
export type LimiterName =
  | "LOGIN_IP_LIMITER"
  | "LOGIN_EMAIL_LIMITER"
  | "REGISTER_IP_LIMITER"
  | "REFRESH_IP_LIMITER"
  | "POST_WRITE_USER_LIMITER";

/**
 * The period of every limiter in wrangler.toml (each environment's `ratelimits`), so the longest
 * a refused client has to wait. test/node/wrangler-config.test.ts fails if a period differs.
 */
export const RETRY_AFTER_SECONDS = 60;

/** The client address Cloudflare saw; `wrangler dev` sets it too. */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

/**
 * Throws 429 with `Retry-After` once `key` has used up the named limiter's budget. A limiter that
 * errors lets the request through (logged): rate limiting protects, it must not take the API down.
 */
export async function enforceRateLimit<E extends AppEnv>(c: Context<E>, name: LimiterName, key: string): Promise<void> {
  let allowed = true;
  try {
    ({ success: allowed } = await c.env[name].limit({ key: `${name}:${key}` }));
  } catch (error) {
    addWarning(c.var.log, `rate limiter ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!allowed) throw new RateLimitError(RETRY_AFTER_SECONDS);
}

/** `enforceRateLimit` as a middleware, for keys known before the body is read. */
export function rateLimit<E extends AppEnv = AppEnv>(name: LimiterName, key: (c: Context<E>) => string) {
  return createMiddleware<E>(async (c, next) => {
    await enforceRateLimit(c, name, key(c));
    await next();
  });
}
