import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";

/** JSON never needs to load anything. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The docs page loads Swagger UI from this origin; Swagger UI sets inline styles. */
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** Two years, the HSTS preload list's minimum. */
const HSTS = "max-age=63072000; includeSubDomains";

/** Headers every response gets, whatever produced it (handler, error renderer, 404). */
export const responseHeaders = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  // The contract names the charset; Hono's `c.json` leaves it implicit.
  if (c.res.headers.get("Content-Type") === "application/json") {
    c.header("Content-Type", "application/json; charset=utf-8");
  }
  // Personal by default: only a handler that knows a response is the same for everyone (a public
  // read, cache/http.ts) marks it public. Errors, tokens and /v1/users/* are never stored.
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "private, no-store");
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "no-referrer");
  c.header("X-Frame-Options", "DENY");
  c.header("Cross-Origin-Resource-Policy", "same-site");
  c.header("Content-Security-Policy", c.req.path === "/docs" ? DOCS_CSP : API_CSP);
  // Only over HTTPS (production); `wrangler dev` on plain HTTP must not pin HSTS on localhost.
  if (new URL(c.req.url).protocol === "https:") c.header("Strict-Transport-Security", HSTS);
  c.res.headers.delete("X-Powered-By");
});
