// What the RealWorld surface (/api) adds to the bundle: the Worker built twice with esbuild (the
// same minification and export conditions as wrangler), once as it is and once with
// src/routes/conduit replaced by an empty Hono app, so everything only /api uses drops out.
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const CONDUIT_ROUTES = /\/routes\/conduit$/;

async function build(withoutConduit) {
  const result = await esbuild.build({
    entryPoints: ["src/index.ts"],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*", "node:*"],
    write: false,
    logLevel: "error",
    plugins: withoutConduit
      ? [
          {
            name: "without-conduit",
            setup(build) {
              build.onResolve({ filter: CONDUIT_ROUTES }, () => ({ path: "conduit", namespace: "stub" }));
              build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
                contents: 'import { Hono } from "hono"; export const conduitRoutes = new Hono();',
                loader: "js",
                resolveDir: process.cwd(),
              }));
            },
          },
        ]
      : [],
  });
  const bytes = result.outputFiles[0].contents;
  return { kib: bytes.length / 1024, gzipKib: gzipSync(bytes).length / 1024 };
}

/** Sizes with and without /api, and the difference, in KiB. */
export async function conduitCost() {
  const [full, withoutConduit] = [await build(false), await build(true)];
  return {
    with_api: full,
    without_api: withoutConduit,
    api_kib: full.kib - withoutConduit.kib,
    api_gzip_kib: full.gzipKib - withoutConduit.gzipKib,
  };
}
