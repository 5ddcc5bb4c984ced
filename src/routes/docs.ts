import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { describeRoute } from "../openapi/annotations";
import { buildOpenApiDocument, type OpenApiDocument } from "../openapi/document";

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

/** The document is built once per isolate, from the app whose routes it describes. */
const documents = new WeakMap<object, OpenApiDocument>();

export function docsRoutes(getApp: () => Hono<AppEnv>) {
  return new Hono<AppEnv>()
    .get(
      "/openapi.json",
      describeRoute({
        summary: "OpenAPI document",
        description: "OpenAPI 3.1, generated from the same zod schemas that validate requests.",
        tag: "docs",
        auth: "none",
        success: { status: 200, description: "The document", schema: z.record(z.string(), z.unknown()) },
        errors: [],
      }),
      (c) => {
        const app = getApp();
        let document = documents.get(app);
        if (!document) {
          document = buildOpenApiDocument(app);
          documents.set(app, document);
        }
        return c.json(document);
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
}
