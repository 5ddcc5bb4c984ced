import { Hono } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./app-env";
import { loadSettings } from "./config";
import { renderError } from "./error-handler";
import { NotFoundError } from "./errors";
import { authenticate } from "./middleware/auth";
import { appContext } from "./middleware/context";
import { headerLimits } from "./middleware/header-limits";
import { requestId } from "./middleware/request-id";
import { requestLog } from "./middleware/request-log";
import { responseHeaders } from "./middleware/response-headers";
import { routeGuard } from "./middleware/route-guard";
import { authRoutes } from "./routes/auth";
import { docsRoutes } from "./routes/docs";
import { healthRoutes } from "./routes/health";
import { postRoutes } from "./routes/posts";
import { userRoutes } from "./routes/users";

const base = new Hono<AppEnv>();

const routes = base
  .use(requestId)
  .use(requestLog)
  .use(responseHeaders)
  .use(
    cors({
      origin: async (origin, c) => {
        const settings = await loadSettings(c.env);
        return settings.ok && settings.settings.CORS_ORIGINS.includes(origin) ? origin : null;
      },
      allowHeaders: [
        "Authorization",
        "Content-Type",
        "If-Match",
        "If-None-Match",
        "Idempotency-Key",
        "X-Request-Id",
        "X-D1-Bookmark",
      ],
      exposeHeaders: ["ETag", "Location", "X-Request-Id", "X-Cache", "Retry-After", "X-D1-Bookmark", "Server-Timing"],
      allowMethods: ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
      maxAge: 600,
    }),
  )
  .use(routeGuard(() => base))
  .route("/health", healthRoutes)
  .route("/", docsRoutes)
  .use("/v1/*", headerLimits, appContext)
  // Sign-up, login and refresh ignore a stale Authorization header: they are how a client whose
  // token expired gets a new one. Logout authenticates itself (routes/auth.ts).
  .use("/v1/users/*", authenticate)
  .use("/v1/posts/*", authenticate)
  .route("/v1/auth", authRoutes)
  .route("/v1/users", userRoutes)
  .route("/v1/posts", postRoutes);

routes.onError(renderError);
routes.notFound((c) => renderError(new NotFoundError(`No route for ${c.req.method} ${c.req.path.slice(0, 200)}`), c));

/** The Worker's Hono app. Its type drives the typed `hono/client`. */
export const app = routes;
export type AppType = typeof routes;
