import { type Context, Hono, type MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./app-env";
import { loadSettings } from "./config";
import { BOOKMARK_HEADER } from "./db/session";
import { renderError } from "./error-handler";
import { NotFoundError } from "./errors";
import { authenticate, authenticateConduit } from "./middleware/auth";
import { appContext } from "./middleware/context";
import { headerLimits } from "./middleware/header-limits";
import { requestId } from "./middleware/request-id";
import { requestLog } from "./middleware/request-log";
import { responseHeaders } from "./middleware/response-headers";
import { knowsPath, routeGuard } from "./middleware/route-guard";
import { authRoutes } from "./routes/auth";
import { conduitRoutes } from "./routes/conduit";
import { docsRoutes } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { postRoutes } from "./routes/posts";
import { userRoutes } from "./routes/users";

const base = new Hono<AppEnv>();

/** The origins in CORS_ORIGINS (none while the settings are invalid). */
async function corsOrigin(origin: string, c: Context<AppEnv>): Promise<string | null> {
  const settings = await loadSettings(c.env);
  return settings.ok && settings.settings.CORS_ORIGINS.includes(origin) ? origin : null;
}

const CORS_EXPOSE_HEADERS = [
  "ETag",
  "Location",
  "X-Request-Id",
  "X-Cache",
  "Retry-After",
  BOOKMARK_HEADER,
  "Server-Timing",
];

const corsMiddleware = cors({
  origin: corsOrigin,
  allowHeaders: [
    "Authorization",
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Idempotency-Key",
    "X-Request-Id",
    // RealWorld clients (and its test collection) send it on every request.
    "X-Requested-With",
    BOOKMARK_HEADER,
  ],
  exposeHeaders: CORS_EXPOSE_HEADERS,
  allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  maxAge: 600,
});

/**
 * hono/cors answers every OPTIONS with 204 before the route guard runs, so only a path the
 * guard's table knows gets that preflight answer. An OPTIONS for any other path goes on to the
 * guard's 404 with the CORS headers any other error gets, so an allowed origin can read it.
 */
const apiCors = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "OPTIONS" || knowsPath(base, c.req.path)) return corsMiddleware(c, next);
  const origin = await corsOrigin(c.req.header("Origin") ?? "", c);
  if (origin) {
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS.join(","));
  }
  c.header("Vary", "Origin", { append: true });
  await next();
});

/** Runs `middleware` for every request but the listed `METHOD /path`s. */
function except(routes: string[], middleware: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> {
  const skipped = new Set(routes);
  return (c, next) => (skipped.has(`${c.req.method} ${c.req.path}`) ? next() : middleware(c, next));
}

const routes = base
  .use(requestId)
  .use(requestLog)
  .use(responseHeaders)
  .use(apiCors)
  .use(routeGuard(() => base))
  .route("/health", healthRoutes)
  .route("/", docsRoutes)
  .use("/v1/*", headerLimits, appContext)
  // Sign-up, login, refresh and the mailed-link routes (password reset, email confirmation) ignore a
  // stale Authorization header: they are how a client whose token expired or whose password is lost
  // gets a new one. Logout and the verification request authenticate themselves (routes/auth.ts).
  .use("/v1/users/*", authenticate)
  .use("/v1/posts/*", authenticate)
  .route("/v1/auth", authRoutes)
  .route("/v1/users", userRoutes)
  .route("/v1/posts", postRoutes)
  // As on /v1, sign-up and login ignore a stale token: RealWorld clients send theirs on every request.
  .use("/api/*", headerLimits, appContext, except(["POST /api/users", "POST /api/users/login"], authenticateConduit))
  .route("/api", conduitRoutes);

routes.onError(renderError);
routes.notFound((c) => renderError(new NotFoundError(`No route for ${c.req.method} ${c.req.path.slice(0, 200)}`), c));

/** The Worker's Hono app. Its type drives the typed `hono/client`. */
export const app = routes;
export type AppType = typeof routes;
