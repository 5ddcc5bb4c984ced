import { Hono } from "hono";
import * as z from "zod/mini";
import type { $ZodType } from "zod/v4/core";
import type { AppEnv } from "../app-env";
import { describeRoute } from "../openapi/annotations";
import { OPENAPI_JSON } from "../openapi/openapi.generated";

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
 * app's routes) and served as the stored string: the Worker neither carries zod's JSON-Schema
 * converter nor builds or serialises the document.
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
    (c) => c.body(OPENAPI_JSON, 200, { "Content-Type": "application/json" }),
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
