import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { conduitArticleRoutes } from "./articles";
import { conduitProfileRoutes } from "./profiles";
import { conduitTagRoutes } from "./tags";
import { conduitUserRoutes } from "./users";

/**
 * The RealWorld (Conduit) surface, mounted at `/api`: its envelopes, its `Token` scheme and its
 * error shape over the same domain as `/v1` (API.md §9).
 */
export const conduitRoutes = new Hono<AppEnv>()
  .route("/", conduitUserRoutes)
  .route("/profiles", conduitProfileRoutes)
  .route("/articles", conduitArticleRoutes)
  .route("/tags", conduitTagRoutes);
