import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { dependencies } from "../../cache/invalidation";
import { serveList } from "../../cache/read-through";
import { POPULAR_TAGS_MAX, popularTags } from "../../domain/articles";
import { describeRoute } from "../../openapi/annotations";
import { PUBLIC_READ_HEADERS } from "../../openapi/responses";
import { tagsResponseSchema } from "../../schemas/conduit";

export const conduitTagRoutes = new Hono<AppEnv>().get(
  "/",
  describeRoute({
    summary: "Get tags",
    description: `Tags of published articles, most used first, at most ${POPULAR_TAGS_MAX}.`,
    tag: "conduit",
    auth: "optional",
    success: { status: 200, description: "Tags", schema: tagsResponseSchema, headers: PUBLIC_READ_HEADERS },
    errors: [],
    conditionalGet: true,
  }),
  // A tag appears or goes with public post writes, which move the list generations.
  (c) => serveList(c, "api/tags", dependencies.globalList(), async () => ({ tags: await popularTags(c.var.domain) })),
);
