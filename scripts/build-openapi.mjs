// Builds /openapi.json at build time: runs the generator (src/openapi/document.ts) over the app's
// own routes in Node and writes the document to public/openapi.json, a static asset: Cloudflare
// serves it before the Worker runs, so neither zod's JSON-Schema converter nor the document is in
// the Worker bundle (src/routes/docs.ts only declares the route, and reads the asset where assets
// are not served first). Runs before dev, test, deploy, check:deploy and size; git-ignored.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";

const ROOT = resolve(import.meta.dirname, "..");
const TARGET = join(ROOT, "public/openapi.json");

/** Bundles the app and the generator for Node the way wrangler bundles the Worker (same export conditions). */
async function generate() {
  const result = await esbuild.build({
    stdin: {
      contents: [
        'import { app } from "./src/app";',
        'import { buildOpenApiDocument } from "./src/openapi/document";',
        "export default JSON.stringify(buildOpenApiDocument(app));",
      ].join("\n"),
      resolveDir: ROOT,
      sourcefile: "build-openapi-entry.ts",
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    conditions: ["workerd", "worker", "browser"],
    write: false,
    logLevel: "error",
  });
  const dir = mkdtempSync(join(tmpdir(), "build-openapi-"));
  try {
    const file = join(dir, "generate.mjs");
    writeFileSync(file, result.outputFiles[0].text);
    return (await import(pathToFileURL(file).href)).default;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const json = await generate();
let previous = "";
try {
  previous = readFileSync(TARGET, "utf8");
} catch {
  // first build
}
// Unchanged output is not rewritten, so a running `wrangler dev` does not reload for nothing.
if (previous !== json) writeFileSync(TARGET, json);
const operations = Object.values(JSON.parse(json).paths).reduce((sum, item) => sum + Object.keys(item).length, 0);
console.log(
  `build-openapi: ${operations} operations, ${(json.length / 1024).toFixed(1)} KiB → ${TARGET.slice(ROOT.length + 1)}`,
);
