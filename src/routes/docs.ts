import { Hono } from "hono";
import * as z from "zod/mini";
import type { $ZodType } from "zod/v4/core";
import type { AppEnv } from "../app-env";
import { describeRoute } from "../openapi/annotations";

const DOCS_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Edge Posts API — reference</title>
    <link rel="stylesheet" href="/docs-assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs-assets/swagger-ui-bundle.js"></script>
    <script src="/docs-assets/docs-init.js"></script>
  </body>
</html>
`;

let documentSchema: $ZodType | undefined;

/**
 * The document is generated at build time (scripts/build-openapi.mjs runs the generator over the
 * app's routes) into `public/openapi.json`, a static asset: the bundle carries neither zod's
 * JSON-Schema converter nor the document. The Worker runs first for this path (`run_worker_first`
 * in wrangler.toml), so the answer has every header the rest of the API has; it reads the file
 * through the ASSETS binding.
 */
export const docsRoutes = new Hono<AppEnv>()
  .get(
    "/openapi.json",
    describeRoute({
      summary: "OpenAPI document",
      description: "OpenAPI 3.1, generated from the same zod schemas that validate requests.",
      tag: "docs",
      auth: "none",
      success: {
        status: 200,
        description: "The document",
        // Read by the generator only (build time): not built at startup.
        get schema() {
          documentSchema ??= z.record(z.string(), z.unknown());
          return documentSchema;
        },
      },
      errors: [],
    }),
    async (c) => {
      const asset = await c.env.ASSETS.fetch(new URL("/openapi.json", c.req.url));
      // A fresh copy: the middleware after this adds headers, an asset response's are immutable.
      return new Response(asset.body, asset);
    },
  )
  .get(
    "/docs",
    describeRoute({
      summary: "API reference page",
      description: "Swagger UI, served by this Worker (no CDN): authorise with a token and try requests.",
      tag: "docs",
      auth: "none",
      success: { status: 200, description: "HTML page" },
      contentType: "text/html",
      errors: [],
    }),
    (c) => c.html(DOCS_HTML),
  );
