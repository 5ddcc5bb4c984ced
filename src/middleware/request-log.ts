import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { serverTimingHeader } from "../lib/timing";

/**
 * One JSON line per request, and the `Server-Timing` header (db, cache, total). Only fields chosen here are logged: never headers, bodies or
 * tokens, so a secret cannot reach the log by accident.
 */
export const requestLog = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  c.set("log", {});
  c.set("timings", { db: 0, cache: 0 });
  await next();
  const durationMs = performance.now() - started;
  c.header("Server-Timing", serverTimingHeader(c.var.timings, durationMs));
  const { status } = c.res;
  const fields = c.get("log");
  const cf = c.req.raw.cf as { colo?: unknown } | undefined;
  const line = {
    level: status >= 500 ? "error" : "info",
    msg: "request",
    request_id: c.get("requestId"),
    method: c.req.method,
    route: fields.route ?? null,
    path: fields.route ? undefined : c.req.path.slice(0, 256),
    status,
    duration_ms: Math.round(durationMs * 100) / 100,
    user_id: fields.userId,
    cache: fields.cache,
    error: fields.error,
    warnings: fields.warnings,
    colo: typeof cf?.colo === "string" ? cf.colo : undefined,
    cf_ray: c.req.header("cf-ray")?.slice(0, 64),
  };
  console.log(JSON.stringify(line));
});
