import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";

/** Headers every response gets, whatever produced it (handler, error renderer, 404). */
export const responseHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // The contract names the charset; Hono's `c.json` leaves it implicit.
  if (c.res.headers.get("Content-Type") === "application/json") {
    c.header("Content-Type", "application/json; charset=utf-8");
  }
  c.header("X-Content-Type-Options", "nosniff");
});
