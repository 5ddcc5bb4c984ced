import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { AppEnv } from "../app-env";

/**
 * One JSON line per request. Only fields chosen here are logged: never headers, bodies or
 * tokens, so a secret cannot reach the log by accident.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  const { status } = c.res;
  const fields = c.get("log");
  const line = {
    level: status >= 500 ? "error" : "info",
    msg: "request",
    request_id: c.get("requestId"),
    method: c.req.method,
    route: status === 404 || status === 405 ? null : routePath(c),
    path: status === 404 || status === 405 ? c.req.path.slice(0, 256) : undefined,
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    user_id: fields.userId,
    cache: fields.cache,
    error: fields.error,
    warnings: fields.warnings,
  };
  console.log(JSON.stringify(line));
});
