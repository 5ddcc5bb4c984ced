import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { BOOKMARK_HEADER } from "../db/session";
import { ValidationError } from "../errors";

/**
 * Upper bounds for request headers the API reads, so an absurd value is a clear 400 before any
 * work is done. (Authorization has its own limit in auth, Idempotency-Key its schema; an unsafe
 * X-Request-Id is replaced.)
 */
const MAX_HEADER_LENGTHS: Record<string, number> = {
  "If-Match": 1024,
  "If-None-Match": 1024,
  [BOOKMARK_HEADER]: 128,
};

export const headerLimits = createMiddleware<AppEnv>(async (c, next) => {
  const issues = Object.entries(MAX_HEADER_LENGTHS).flatMap(([name, max]) => {
    const value = c.req.header(name);
    return value !== undefined && value.length > max
      ? [{ path: name, message: `must be at most ${max} characters` }]
      : [];
  });
  if (issues.length > 0) {
    throw new ValidationError(`Header too long: ${issues.map((issue) => issue.path).join(", ")}`, issues);
  }
  await next();
});
