#!/usr/bin/env node
// What the local platform itself costs, measured with tiny stand-in Workers on the same harness
// as bench/run.mjs (Miniflare, wrangler's workerd, client on the Worker's own socket, 10
// connections). Use it to read the ratios of run.mjs: every KV read or D1 query in the local
// simulator costs workerd CPU that, on Cloudflare, is network I/O outside the isolate.
//   npx node bench/calibrate.mjs [--duration 4]  -> bench/results-calibration.json
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { toJson } from "./lib/json.mjs";
import { measure } from "./lib/load.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({ options: { duration: { type: "string", default: "4" } } });
const require = createRequire(import.meta.url);
const wranglerEntry = require.resolve("wrangler");
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(
  pathToFileURL(createRequire(wranglerEntry).resolve("miniflare")).href
);

const LOG_LINE =
  'console.log(JSON.stringify({ level: "info", msg: "request", request_id: "0123456789abcdef0123", method: "GET", route: "/health", status: 200, duration_ms: 0.12 }));';
const kvGets = (n) =>
  `await Promise.all(${JSON.stringify(Array.from({ length: n }, (_, i) => `key-${i}`))}.map((k) => env.KV.get(k)));`;
const variants = [
  ["empty Worker", ""],
  ["+ one console.log line", LOG_LINE],
  ["1 KV get", kvGets(1)],
  ["3 KV gets in parallel", kvGets(3)],
  // The read cache's lookup: one bulk get of the entry and its generations (src/cache/public-cache.ts).
  ["1 bulk KV get of 3 keys", 'await env.KV.get(["key-0", "key-1", "key-2"], "text");'],
  ["1 D1 query (select 1)", 'await env.DB.prepare("select 1 as one").first();'],
  ["1 KV get + 1 D1 query", `${kvGets(1)} await env.DB.prepare("select 1 as one").first();`],
];

const dir = mkdtempSync(join(os.tmpdir(), "edge-posts-calibrate-"));
const rows = [];
try {
  for (const [name, body] of variants) {
    const mf = new Miniflare(
      convertV4MiniflareOptions({
        host: "127.0.0.1",
        port: 0,
        log: new Log(LogLevel.WARN),
        cf: { colo: "LCL" },
        resourcePersistencePath: join(dir, "v3"),
        handleStructuredLogs: () => {},
        workers: [
          {
            name: "calibrate",
            modules: true,
            compatibilityDate: "2026-11-01",
            script: `export default { async fetch(request, env) { ${body} return new Response('{"status":"ok"}', { headers: { "content-type": "application/json" } }); } };`,
            kvNamespaces: { KV: "calibrate-kv" },
            d1Databases: { DB: "calibrate-db" },
            unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
          },
        ],
      }),
    );
    try {
      await mf.ready;
      const kv = await mf.getKVNamespace("KV");
      for (let i = 0; i < 3; i++) await kv.put(`key-${i}`, i === 0 ? "x".repeat(1000) : "0123456789abcdef");
      const url = String(await mf.unsafeGetDirectURL("calibrate"));
      const r = await measure({
        baseUrl: url,
        path: "/",
        connections: 10,
        warmupSec: 1,
        durationSec: Number(args.duration),
      });
      rows.push({
        name,
        rps: Number(r.rps.toFixed(1)),
        us_per_request: Number((1e6 / r.rps).toFixed(0)),
        p50_ms: r.p50_ms,
        p99_ms: r.p99_ms,
        errors: r.errors,
      });
      process.stderr.write(`${name}: ${Math.round(r.rps)} rps\n`);
    } finally {
      await mf.dispose();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\nlocal platform costs (workerd ${JSON.parse(readFileSync(createRequire(createRequire(wranglerEntry).resolve("miniflare")).resolve("workerd/package.json"), "utf8")).version}), 10 connections, ${args.duration} s each\n`,
);
console.log(
  `${"stand-in Worker".padEnd(26)}${"rps".padStart(8)}${"µs/req".padStart(8)}${"p50 ms".padStart(8)}${"p99 ms".padStart(8)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(26)}${String(Math.round(r.rps)).padStart(8)}${String(r.us_per_request).padStart(8)}${String(r.p50_ms).padStart(8)}${String(r.p99_ms).padStart(8)}`,
  );
}
writeFileSync(
  join(HERE, "results-calibration.json"),
  toJson({
    variants: rows,
    meta: {
      date: new Date().toISOString(),
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      loadavg_at_end: os.loadavg().map((v) => Number(v.toFixed(2))),
    },
  }),
);
console.log("\nwrote bench/results-calibration.json");
