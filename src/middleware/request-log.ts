import { createMiddleware } from "hono/factory";
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
    route: fields.route ?? null,
    path: fields.route ? undefined : c.req.path.slice(0, 256),
    status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    user_id: fields.userId,
    cache: fields.cache,
    error: fields.error,
    warnings: fields.warnings,
  };
  console.log(JSON.stringify(line));
});
