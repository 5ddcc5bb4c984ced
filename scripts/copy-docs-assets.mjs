// Copies Swagger UI from node_modules into the Worker's static assets, so /docs works offline
// (no CDN). Runs before dev, test and deploy; the copies are git-ignored.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const source = dirname(require.resolve("swagger-ui-dist/package.json"));
const target = "public/docs-assets";
mkdirSync(target, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
  copyFileSync(join(source, file), join(target, file));
}
