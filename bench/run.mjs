#!/usr/bin/env node
// Benchmark harness for the edge-posts-api Worker.
//
//   npm run bench                    default scenarios -> bench/results.json, bench/results.svg
//   npm run bench -- --scale         100,000 vs 1,000 posts -> bench/results-scale.json
//   options: --connections 10 --duration 8 --warmup 2 (--scale: 8 and 1) --no-request-log
//            --full-stack --keep (keep the temp dir) --only name,name (a subset of scenarios)
//            --out path.json (default bench/results.json, or bench/results-scale.json)
//            --no-adjacent-baseline (skip the 3 s /health run before each scenario)
//
// HARNESS CHOICE. The Worker runs in workerd through Miniflare's programmatic API (wrangler's own
// copy), in a child process (bench/lib/server.mjs). The bundle is exactly what `wrangler deploy
// --dry-run` builds; the bindings (D1, KV, rate limiters, vars) are the ones wrangler derives from
// wrangler.toml (`unstable_getMiniflareWorkerOptions`), plus a fresh random 48-char JWT_SECRET.
// The load generator connects to the Worker's own socket (Miniflare `unsafeDirectSockets`) on
// 127.0.0.1: no proxy, no Miniflare entry worker, no static-assets router in between.
// Measured on this 2-core machine, GET /health, 10 connections, alternating harnesses, two runs
// (`npx node bench/compare-harness.mjs`, bench/results-harness.json):
//   wrangler dev (ProxyWorker in a 2nd workerd, logs via wrangler's Node)   180-225 rps  p50 44-54 ms
//   unstable_startWorker (the same DevEnv, in its own process)              245-300 rps  p50 33-39 ms
//   Miniflare + wrangler's options (entry worker -> assets router -> Worker) 725-807 rps  p50 10-12 ms
//   Miniflare, direct socket to the Worker (this harness)                  ~2,590 rps   p50 3 ms
// i.e. with wrangler dev ~90 % of a /health request's cost is the harness, and ratios to the
// baseline would mostly measure that. The assets router is skipped because the Worker has no
// ASSETS binding and no benchmarked path is a static file (on Cloudflare that routing is done by
// the platform, not in the Worker); the entry worker is skipped too, so request.cf is absent and
// there is no CF-Connecting-IP header (the rate-limit key becomes "unknown"; limits are raised).
// `--full-stack` puts the entry worker and assets router back for comparison.
//
// WHAT IS CHANGED FOR THE BENCHMARK (never src/):
// - The Worker runs from a temporary copy of wrangler.toml whose [[ratelimits]] limits are raised
//   to 1,000,000 per period (LOGIN_*, REGISTER_*, REFRESH_*, POST_WRITE_USER_LIMITER), so no
//   scenario is throttled; `main`, `migrations_dir` and `[assets] directory` are made absolute.
// - Every run uses fresh temporary persistence dirs (migrations applied with `wrangler d1
//   migrations apply DB --local --persist-to`), deleted at the end (--keep keeps them).
// - The Worker's one console.log JSON line per request is still produced by workerd; the server
//   process drops it instead of printing it. --no-request-log bundles a wrapper entry that stubs
//   console.log, to show what the log line itself costs.
//
// READING THE RATIOS. Locally, Miniflare's KV and D1 run inside the same workerd thread as the
// Worker: one KV read costs ~0.6 ms of it (a bulk get of 3 keys ~1.7 ms), a D1 query ~0.9 ms,
// against ~0.1 ms for an empty Worker and ~0.4 ms for GET /health (`npx node bench/calibrate.mjs`,
// bench/results-calibration.json). On Cloudflare those are I/O outside the isolate, so the ratios
// of KV/D1 scenarios to /health here are far below what the Worker's own CPU time would give.
// Use the figures to compare runs (before/after a change), not as production capacity.
//
// DATA. Posts and their authors are inserted directly as multi-row literal INSERTs through the
// D1 binding (no bound parameters, 100 rows per statement); only a handful of users are
// registered through the API (their tokens and passwords are needed). Default dataset: 20
// authors x 1,100 posts (every 10th a draft) = 22,000 posts, 19,800 published.
//
// COLD-CACHE METHODS (the read cache is Workers KV; an entry is served only if its generation
// stamp matches, see README "Read cache"):
// - post_uncached / post_read: every request asks for a different published post id (shuffled
//   round-robin over all of them); every quarter of the pool a bench user renames itself through
//   PATCH /v1/users/me, which bumps the authors generation and so retires every cached post. An id
//   therefore always has a completed bump between its previous fill and its next read: each read
//   is a real miss (lookup, D1 query, KV fill), even when the pool wraps (the 1,000-post dataset).
// - list_uncached and the anonymous scale lists: each request carries a distinct but equivalent
//   cursor: for the first page ["9999-12-31T23:59:59.999Z", "0-b<n>"] (every post is older, so
//   the page is exactly the first page); for a deep page [created_at of the last row, "0-b<n>"]
//   ("0-" sorts below every UUIDv7, so the same rows follow). The cache key includes the cursor,
//   so every request misses, runs the same SQL and fills KV. Varying `limit` over 1..100 was not
//   used: only 100 distinct keys, all cached (60 s) after the first 100 requests. The harness
//   checks once that each trick returns the same ids as the real request.
// - *_auth scale lists send a bearer token: authenticated lists BYPASS the cache (their SQL scope
//   is "published or own", a different query from the anonymous one).
// Every scenario counts the X-Cache header of every measured response (column "x-cache").
// ratio_vs_baseline is rps / the baseline scenario's rps (the budgets use it); each scenario is
// also preceded by a 3 s GET /health run, reported as ratio_vs_adjacent_baseline, which is less
// sensitive to other processes' load coming and going during the run.
//
// Stops every server process group at the end, on errors and on Ctrl-C; all traffic is to
// 127.0.0.1. Bounded: default run about 2 min, --scale about 3 min on 2 cores.
// The machine should be otherwise idle: the client, workerd and everything else share the cores;
// the run warns when the load average is high and re-measures the baseline at the end (drift).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { renderChart } from "./chart.mjs";
import {
  cleanup,
  freshDatabase,
  killAllNow,
  prepareWorkspace,
  RAISED_RATE_LIMIT,
  startServer,
} from "./lib/harness.mjs";
import { toJson } from "./lib/json.mjs";
import { measure } from "./lib/load.mjs";
import { mulberry32, seedDataset } from "./lib/seed.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// Options and guards

const { values: args } = parseArgs({
  options: {
    scale: { type: "boolean", default: false },
    connections: { type: "string", default: "10" },
    duration: { type: "string" },
    warmup: { type: "string" },
    "no-request-log": { type: "boolean", default: false },
    "full-stack": { type: "boolean", default: false },
    "no-adjacent-baseline": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    only: { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  const lines = readFileSync(fileURLToPath(import.meta.url), "utf8")
    .split("\n")
    .slice(1);
  console.log(
    lines
      .slice(0, lines.indexOf("//", 2))
      .join("\n")
      .replaceAll(/^\/\/ ?/gm, ""),
  );
  process.exit(0);
}
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `bench: Node ${process.versions.node} is too old for wrangler; run it through npm (npm run bench) or npx (npx node bench/run.mjs), which use the project's Node 22.`,
  );
  process.exit(1);
}
const CONNECTIONS = Number(args.connections);
const DURATION = Number(args.duration ?? 8);
const WARMUP = Number(args.warmup ?? (args.scale ? 1 : 2));
const ONLY = args.only ? new Set(args.only.split(",")) : undefined;
for (const [name, value] of Object.entries({ connections: CONNECTIONS, duration: DURATION, warmup: WARMUP })) {
  if (!Number.isFinite(value) || value < 0 || (name !== "warmup" && value === 0)) {
    console.error(`bench: --${name} must be a positive number`);
    process.exit(1);
  }
}
const MODE = args["full-stack"] ? "full" : "direct";
const ADJACENT = !args["no-adjacent-baseline"];
const LOAD_AT_START = os.loadavg();
// Results file (the SVG goes next to it with the same base name).
const OUT = args.out ? resolve(args.out) : join(HERE, args.scale ? "results-scale.json" : "results.json");
const OUT_SVG = `${OUT.replace(/\.json$/, "")}.svg`;
const rel = (path) => relative(process.cwd(), path) || path;

let interrupted = false;
process.on("SIGINT", () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.error("\nbench: interrupted, stopping servers…");
  cleanup().finally(() => process.exit(130));
});
process.on("SIGTERM", () => {
  cleanup().finally(() => process.exit(143));
});
process.on("exit", killAllNow);

const log = (message) => process.stderr.write(`${message}\n`);
const versionOf = (name, from) => {
  try {
    return JSON.parse(readFileSync(createRequire(from ?? import.meta.url).resolve(`${name}/package.json`), "utf8"))
      .version;
  } catch {
    return "unknown";
  }
};

// ---------------------------------------------------------------------------------------------
// Small HTTP helpers (setup and verification only; load goes through autocannon)

async function api(server, method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

async function expectStatus(promise, status, what) {
  const response = await promise;
  if (response.status !== status)
    throw new Error(`${what}: expected ${status}, got ${response.status}: ${response.text.slice(0, 300)}`);
  return response;
}

async function registerUsers(server, count, prefix) {
  const users = [];
  for (let i = 0; i < count; i++) {
    const email = `${prefix}-${i}-${randomBytes(4).toString("hex")}@bench.example`;
    const password = randomBytes(18).toString("base64url");
    const { json } = await expectStatus(
      api(server, "POST", "/v1/auth/register", { body: { email, name: `Bench User ${i}`, password } }),
      201,
      "register",
    );
    users.push({ id: json.user.id, email, password, token: json.access_token });
  }
  return users;
}

/** GETs until the response says X-Cache: HIT (the fill runs in waitUntil, after the response). */
async function warmUntilHit(server, path, token) {
  for (let attempt = 0; attempt < 40; attempt++) {
    const response = await api(server, "GET", path, { token });
    if (response.status !== 200) throw new Error(`warming ${path}: ${response.status} ${response.text.slice(0, 200)}`);
    if (response.headers.get("x-cache") === "HIT") return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${path} never answered X-Cache: HIT`);
}

const encodeCursor = (createdAt, id) => Buffer.from(JSON.stringify([createdAt, id])).toString("base64url");
const decodeCursor = (text) => JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
const FAR_FUTURE = "9999-12-31T23:59:59.999Z";

/** Distinct-but-equivalent cursors: same page, a new cache key on every request (see top). */
function equivalentCursorPaths(basePath, createdAt) {
  let n = 0;
  const sep = basePath.includes("?") ? "&" : "?";
  return () => `${basePath}${sep}cursor=${encodeCursor(createdAt, `0-b${(n++).toString(36)}`)}`;
}

/**
 * Equivalent search paths that are all distinct cache keys: a trailing run of punctuation (no
 * letter or digit, so the FTS expression builder drops it) makes each `q` new to the cache.
 */
const SEARCH_PADDING = "!#$%&()+,;";
function equivalentSearchPaths(q) {
  let n = 0;
  return () => {
    let padding = "";
    for (let k = n++; ; k = Math.floor(k / SEARCH_PADDING.length) - 1) {
      padding += SEARCH_PADDING[k % SEARCH_PADDING.length];
      if (k < SEARCH_PADDING.length) break;
    }
    return `/v1/posts/search?q=${encodeURIComponent(`${q} ${padding}`)}`;
  };
}

async function assertSamePage(server, realPath, trickPath, token) {
  const [a, b] = await Promise.all([api(server, "GET", realPath, { token }), api(server, "GET", trickPath, { token })]);
  const ids = (r) => (r.json?.data ?? []).map((p) => p.id).join(",");
  if (a.status !== 200 || b.status !== 200 || ids(a) !== ids(b) || !ids(a)) {
    throw new Error(`equivalent-cursor check failed for ${realPath}: ${a.status}/${b.status} ${b.text.slice(0, 200)}`);
  }
}

/** Deterministic Fisher-Yates shuffle (random access over the table, same order every run). */
function shuffled(items, seed = 42) {
  const rand = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Paths over distinct published posts; every quarter of the pool, `bumper` renames itself (PATCH
 * /v1/users/me), which retires every cached post, so even a wrapped pool never hits.
 */
function coldPostPaths(server, ids, bumper) {
  let i = 0;
  let renames = 0;
  const quarter = Math.max(1, Math.floor(ids.length / 4));
  const stats = { bumps: 0, bumpErrors: 0 };
  const next = () => {
    if (i > 0 && i % quarter === 0) {
      renames++;
      api(server, "PATCH", "/v1/users/me", { token: bumper.token, body: { name: `Bench Bumper ${renames}` } }).then(
        (r) => (r.status === 200 ? stats.bumps++ : stats.bumpErrors++),
        () => stats.bumpErrors++,
      );
    }
    const id = ids[i % ids.length];
    i++;
    return `/v1/posts/${id}`;
  };
  return { next, stats, used: () => i };
}

// ---------------------------------------------------------------------------------------------
// Running scenarios

async function runScenario(server, scenario) {
  log(`▶ ${scenario.label ?? scenario.name}  (${WARMUP} s warm-up + ${DURATION} s, ${CONNECTIONS} connections)`);
  if (scenario.prepare) await scenario.prepare();
  const result = await measure({
    baseUrl: server.url,
    connections: CONNECTIONS,
    warmupSec: WARMUP,
    durationSec: DURATION,
    ...scenario.load,
  });
  if (scenario.after) Object.assign(result, await scenario.after());
  const cache = Object.entries(result.x_cache)
    .map(([k, v]) => `${k}:${v}`)
    .join(" ");
  log(
    `  ${Math.round(result.rps)} rps  p50 ${result.p50_ms} ms  p99 ${result.p99_ms} ms  errors ${result.errors}  x-cache ${cache}`,
  );
  const expected = scenario.expectCache;
  if (expected) {
    const share = (result.x_cache[expected] ?? 0) / Math.max(1, result.requests);
    result.expected_cache = expected;
    result.expected_cache_share = Number(share.toFixed(4));
    if (share < 0.99) log(`  ! only ${(share * 100).toFixed(1)} % of responses were X-Cache: ${expected}`);
  }
  return result;
}

const fmt = (n, digits = 0) =>
  n == null || Number.isNaN(n)
    ? "-"
    : Number(n).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ");
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
}

function gitState() {
  const git = (...argv) => {
    const r = spawnSync("git", argv, { cwd: join(HERE, ".."), encoding: "utf8" });
    return r.status === 0 ? r.stdout.trim() : undefined;
  };
  const dirty = git("status", "--porcelain", "--", "src", "migrations", "wrangler.toml", "package.json");
  return {
    commit: git("rev-parse", "--short", "HEAD") ?? "unknown",
    worker_source_modified: dirty === undefined ? null : dirty.length > 0,
  };
}

function warnIfBusy() {
  const [one] = os.loadavg();
  if (one > os.cpus().length * 0.5) {
    log(
      `! load average ${one.toFixed(2)} on ${os.cpus().length} cores: other processes are busy; results will be noisy`,
    );
  }
}

function baseMeta(extra) {
  const wranglerEntry = require.resolve("wrangler");
  const miniflareEntry = createRequire(wranglerEntry).resolve("miniflare");
  return {
    date: new Date().toISOString(),
    git: gitState(),
    machine: {
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores: os.cpus().length,
      memory_gb: Number((os.totalmem() / 2 ** 30).toFixed(1)),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      loadavg_at_start: LOAD_AT_START.map((v) => Number(v.toFixed(2))),
    },
    harness:
      MODE === "direct"
        ? "Miniflare (programmatic, wrangler's own copy) in a child process: one workerd; the client connects to the user Worker's own socket (unsafeDirectSockets) on 127.0.0.1, no entry worker, no assets router; bundle from `wrangler deploy --dry-run`; bindings from unstable_getMiniflareWorkerOptions(temp wrangler.toml)"
        : "Miniflare (programmatic, wrangler's own copy) in a child process: one workerd; client -> Miniflare entry worker -> static-assets router -> Worker (--full-stack); bundle from `wrangler deploy --dry-run`; bindings from unstable_getMiniflareWorkerOptions(temp wrangler.toml)",
    harness_short:
      MODE === "direct" ? "workerd via Miniflare, direct socket" : "workerd via Miniflare, entry + assets router",
    load_generator: `autocannon ${versionOf("autocannon")} (in-process, HTTP/1.1 keep-alive, no pipelining)`,
    versions: {
      node: process.versions.node,
      wrangler: versionOf("wrangler"),
      miniflare: versionOf("miniflare", wranglerEntry),
      workerd: versionOf("workerd", miniflareEntry),
    },
    connections: CONNECTIONS,
    duration_s: DURATION,
    warmup_s: WARMUP,
    rate_limits_raised_to: RAISED_RATE_LIMIT,
    worker_request_log: args["no-request-log"]
      ? "stubbed (console.log replaced by a no-op in a wrapper entry)"
      : "on (written by workerd, dropped by the bench server)",
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Default run

const BUDGETS = { post_cached: 0.85, list_cached: 0.8, post_cached_auth: 0.8, post_uncached: 0.6, me: 0.6 };

async function defaultRun() {
  const started = Date.now();
  log("bench: preparing workspace (config copy, bundle, migrations)…");
  const workspace = await prepareWorkspace({ keep: args.keep, stubConsoleLog: args["no-request-log"] });
  const persistTo = await freshDatabase(workspace, "data");
  const server = await startServer(workspace, persistTo, { mode: MODE });
  log(`bench: Worker at ${server.url} (workspace ${workspace.dir})`);

  const dataset = await seedDataset({
    execBatch: server.d1Batch,
    users: 20,
    postsPerUser: 1100,
    label: "seeding 22,000 posts",
  });
  const users = await registerUsers(server, 5, "bench");
  const [reader, bumper] = users;
  const cachedPostId = dataset.publishedIds.at(-1);
  const coldPool = shuffled(dataset.publishedIds.filter((id) => id !== cachedPostId));
  const cold = coldPostPaths(server, coldPool, bumper);
  const listTrick = equivalentCursorPaths("/v1/posts", FAR_FUTURE);
  await assertSamePage(server, "/v1/posts", listTrick());

  let tokenTurn = 0;
  const postBody = JSON.stringify({
    title: "A benchmark post",
    content: "Benchmark content. ".repeat(25).trim(),
  });
  const scenarios = [
    { name: "baseline", label: "baseline: GET /health", load: { path: "/health" } },
    {
      name: "post_cached",
      label: "post_cached: anonymous GET /v1/posts/:id from KV",
      prepare: () => warmUntilHit(server, `/v1/posts/${cachedPostId}`),
      load: { path: `/v1/posts/${cachedPostId}` },
      expectCache: "HIT",
    },
    {
      name: "post_cached_auth",
      label: "post_cached_auth: the cached post with a bearer token",
      prepare: () => warmUntilHit(server, `/v1/posts/${cachedPostId}`),
      load: { path: `/v1/posts/${cachedPostId}`, headers: { authorization: `Bearer ${reader.token}` } },
      expectCache: "HIT",
    },
    {
      name: "post_uncached",
      label: `post_uncached: distinct published ids (${coldPool.length.toLocaleString("en-US")} in the pool)`,
      load: { nextPath: cold.next },
      expectCache: "MISS",
      after: () => ({
        distinct_ids_requested: Math.min(cold.used(), coldPool.length),
        pool_size: coldPool.length,
        cache_bumps: cold.stats.bumps,
      }),
    },
    {
      name: "list_cached",
      label: "list_cached: anonymous GET /v1/posts (first page, 20) from KV",
      prepare: () => warmUntilHit(server, "/v1/posts"),
      load: { path: "/v1/posts" },
      expectCache: "HIT",
    },
    {
      name: "list_uncached",
      label: "list_uncached: first page, distinct equivalent cursor per request",
      load: { nextPath: listTrick },
      expectCache: "MISS",
    },
    {
      name: "me",
      label: "me: GET /v1/users/me",
      load: { path: "/v1/users/me", headers: { authorization: `Bearer ${reader.token}` } },
    },
    {
      name: "create_post",
      label: "create_post: POST /v1/posts (draft), 5 users' tokens round-robin",
      load: {
        method: "POST",
        path: "/v1/posts",
        body: postBody,
        headers: () => ({ authorization: `Bearer ${users[tokenTurn++ % users.length].token}` }),
      },
    },
    {
      name: "login",
      label: "login: POST /v1/auth/login (PBKDF2-SHA256, 100,000 iterations)",
      load: {
        method: "POST",
        path: "/v1/auth/login",
        body: JSON.stringify({ email: reader.email, password: reader.password }),
      },
    },
  ];

  const results = [];
  for (const scenario of scenarios) {
    if (ONLY && !ONLY.has(scenario.name) && scenario.name !== "baseline") continue;
    // A short /health run right before each scenario: on a machine where other work comes and
    // goes, rps / adjacent baseline is steadier than rps / the one baseline at the start.
    const adjacent =
      scenario.name === "baseline" || !ADJACENT
        ? undefined
        : await measure({
            baseUrl: server.url,
            path: "/health",
            connections: CONNECTIONS,
            warmupSec: 0.5,
            durationSec: 3,
          });
    const result = await runScenario(server, scenario);
    results.push({ name: scenario.name, ...result, adjacent_baseline_rps: adjacent?.rps });
  }
  log("▶ baseline again (drift check)");
  const baselineEnd = await measure({
    baseUrl: server.url,
    path: "/health",
    connections: CONNECTIONS,
    warmupSec: 1,
    durationSec: Math.min(DURATION, 5),
  });
  const { logLines } = await server.stats();
  await cleanup();

  const baseline = results.find((r) => r.name === "baseline");
  const scenariosOut = results.map((r) => {
    const ratio = baseline ? r.rps / baseline.rps : null;
    const budget = BUDGETS[r.name] ?? null;
    return {
      name: r.name,
      rps: Number(r.rps.toFixed(1)),
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
      errors: r.errors,
      ratio_vs_baseline: ratio == null ? null : Number(ratio.toFixed(3)),
      ...(r.adjacent_baseline_rps
        ? {
            adjacent_baseline_rps: Number(r.adjacent_baseline_rps.toFixed(1)),
            ratio_vs_adjacent_baseline: Number((r.rps / r.adjacent_baseline_rps).toFixed(3)),
          }
        : {}),
      budget,
      budget_met: budget == null || ratio == null ? null : ratio >= budget,
      requests: r.requests,
      status: r.status,
      x_cache: r.x_cache,
      ...(r.expected_cache ? { expected_cache: r.expected_cache, expected_cache_share: r.expected_cache_share } : {}),
      ...(r.pool_size
        ? { pool_size: r.pool_size, distinct_ids_requested: r.distinct_ids_requested, cache_bumps: r.cache_bumps }
        : {}),
    };
  });
  const drift = baseline ? baselineEnd.rps / baseline.rps - 1 : 0;
  const meta = baseMeta({
    dataset:
      "20 seeded authors x 1,100 posts (every 10th a draft): 22,000 posts, 19,800 published; 5 users registered through the API",
    cold_cache_methods: {
      post_uncached:
        "distinct published ids, shuffled round-robin; every quarter of the pool an author-profile rename (PATCH /v1/users/me) retires all cached posts",
      list_uncached:
        'first page with a distinct equivalent cursor per request (["9999-12-31T23:59:59.999Z", "0-b<n>"]): same rows, new cache key',
    },
    create_post_body: "draft (default status), ~480 characters of content",
    baseline_end_rps: Number(baselineEnd.rps.toFixed(1)),
    baseline_drift: Number(drift.toFixed(3)),
    worker_log_lines_dropped: logLines,
    loadavg_at_end: os.loadavg().map((v) => Number(v.toFixed(2))),
    wall_time_s: Math.round((Date.now() - started) / 1000),
  });
  const output = { scenarios: scenariosOut, meta };
  writeFileSync(OUT, toJson(output));
  writeFileSync(OUT_SVG, renderChart(output));

  console.log(`\nedge-posts-api benchmark — ${meta.date}`);
  console.log(
    `${meta.machine.cpu} x${meta.machine.cores}, Node ${meta.versions.node}, wrangler ${meta.versions.wrangler}, workerd ${meta.versions.workerd}`,
  );
  console.log(
    `${meta.harness_short}; ${CONNECTIONS} connections; ${WARMUP} s warm-up + ${DURATION} s per scenario; request log: ${args["no-request-log"] ? "stubbed" : "on"}\n`,
  );
  printTable(
    ["scenario", "rps", "p50 ms", "p99 ms", "errors", "ratio", "budget", "met", "adj. ratio", "x-cache"],
    scenariosOut.map((s) => [
      s.name,
      fmt(s.rps),
      fmt(s.p50_ms),
      fmt(s.p99_ms),
      s.errors,
      s.ratio_vs_baseline == null ? "-" : s.ratio_vs_baseline.toFixed(2),
      s.budget == null ? "" : `≥${s.budget}`,
      s.budget_met == null ? "" : s.budget_met ? "yes" : "NO",
      s.ratio_vs_adjacent_baseline == null ? "" : s.ratio_vs_adjacent_baseline.toFixed(2),
      Object.entries(s.x_cache)
        .map(([k, v]) => `${k}:${v}`)
        .join(" "),
    ]),
  );
  console.log(
    `\nbaseline drift over the run: ${(drift * 100).toFixed(1)} % (${fmt(baseline?.rps)} -> ${fmt(baselineEnd.rps)} rps); load average start ${meta.machine.loadavg_at_start.join(" ")}, end ${meta.loadavg_at_end.join(" ")}`,
  );
  if (ADJACENT)
    console.log("adj. ratio: rps / a 3 s GET /health run right before the scenario (less sensitive to drift).");
  if (Math.abs(drift) > 0.15)
    console.log("! baseline moved by more than 15 %: something else was using the CPU; treat ratios with care.");
  console.log(`wrote ${rel(OUT)} and ${rel(OUT_SVG)} in ${meta.wall_time_s} s`);
}

// ---------------------------------------------------------------------------------------------
// Scale run: the same uncached queries on 1,000 and 100,000 posts, interleaved

const SCALE_BUDGET = 1.5;
const SEARCH_QUERY = "durable repl";

async function prepareScaleDataset(workspace, name, users, postsPerUser) {
  const persistTo = await freshDatabase(workspace, name);
  const server = await startServer(workspace, persistTo, { mode: MODE });
  const total = users * postsPerUser;
  const dataset = await seedDataset({
    execBatch: server.d1Batch,
    users,
    postsPerUser,
    label: `seeding ${total.toLocaleString("en-US")} posts (${users.toLocaleString("en-US")} authors)`,
  });
  const [user] = await registerUsers(server, 1, `scale-${name}`);
  // The cursor 500 posts deep, found the way a client would: five pages of 100.
  let cursor;
  for (let page = 0; page < 5; page++) {
    const path = `/v1/posts?limit=100${cursor ? `&cursor=${cursor}` : ""}`;
    const { json } = await expectStatus(api(server, "GET", path), 200, "walking the cursor");
    cursor = json.next_cursor;
  }
  const [deepCreatedAt] = decodeCursor(cursor);
  const authorId = dataset.authorIds[Math.floor(dataset.authorIds.length / 2)];
  const queries = {
    list_first: { real: "/v1/posts", trick: equivalentCursorPaths("/v1/posts", FAR_FUTURE) },
    list_deep500: { real: `/v1/posts?cursor=${cursor}`, trick: equivalentCursorPaths("/v1/posts", deepCreatedAt) },
    author_list: {
      real: `/v1/users/${authorId}/posts`,
      trick: equivalentCursorPaths(`/v1/users/${authorId}/posts`, FAR_FUTURE),
    },
    // Two words of the seed's 50-word vocabulary, the last a prefix: a broad match (most posts),
    // so every hit is ranked: the worst case for bm25 ordering, not a typical selective query.
    search: {
      real: `/v1/posts/search?q=${encodeURIComponent(SEARCH_QUERY)}`,
      trick: equivalentSearchPaths(SEARCH_QUERY),
    },
  };
  for (const q of Object.values(queries)) await assertSamePage(server, q.real, q.trick());
  const matches = await expectStatus(
    api(server, "GET", `/api/articles?search=${encodeURIComponent(SEARCH_QUERY)}&limit=1`),
    200,
    "counting search matches",
  );
  const searchMatches = matches.json.articlesCount;
  return {
    name,
    server,
    dataset,
    user,
    queries,
    cold: coldPostPaths(server, shuffled(dataset.publishedIds), user),
    total,
    searchMatches,
  };
}

async function scaleRun() {
  const started = Date.now();
  log("bench --scale: preparing workspace (config copy, bundle, migrations)…");
  const workspace = await prepareWorkspace({ keep: args.keep, stubConsoleLog: args["no-request-log"] });
  const small = await prepareScaleDataset(workspace, "posts-1k", 10, 100);
  const large = await prepareScaleDataset(workspace, "posts-100k", 1000, 100);
  log(`bench --scale: 1k at ${small.server.url}, 100k at ${large.server.url}`);

  const auth = (d) => ({ authorization: `Bearer ${d.user.token}` });
  const definitions = [
    {
      name: "list_first",
      what: "GET /v1/posts, first page (anonymous, MISS)",
      load: (d) => ({ nextPath: d.queries.list_first.trick }),
      cache: "MISS",
    },
    {
      name: "list_first_auth",
      what: "GET /v1/posts, first page (bearer, BYPASS)",
      load: (d) => ({ path: d.queries.list_first.real, headers: auth(d) }),
      cache: "BYPASS",
    },
    {
      name: "list_deep500",
      what: "GET /v1/posts?cursor=<500 deep> (anonymous, MISS)",
      load: (d) => ({ nextPath: d.queries.list_deep500.trick }),
      cache: "MISS",
    },
    {
      name: "list_deep500_auth",
      what: "GET /v1/posts?cursor=<500 deep> (bearer, BYPASS)",
      load: (d) => ({ path: d.queries.list_deep500.real, headers: auth(d) }),
      cache: "BYPASS",
    },
    {
      name: "author_list",
      what: "GET /v1/users/:id/posts, first page (anonymous, MISS)",
      load: (d) => ({ nextPath: d.queries.author_list.trick }),
      cache: "MISS",
    },
    {
      name: "author_list_auth",
      what: "GET /v1/users/:id/posts (bearer, BYPASS)",
      load: (d) => ({ path: d.queries.author_list.real, headers: auth(d) }),
      cache: "BYPASS",
    },
    {
      name: "search",
      what: `GET /v1/posts/search?q=${SEARCH_QUERY} (anonymous, MISS)`,
      load: (d) => ({ nextPath: d.queries.search.trick }),
      cache: "MISS",
      noBudget: true,
      after: (d) => ({ published_matches: d.searchMatches }),
    },
    {
      name: "search_auth",
      what: `GET /v1/posts/search?q=${SEARCH_QUERY} (bearer, BYPASS)`,
      load: (d) => ({ path: d.queries.search.real, headers: auth(d) }),
      cache: "BYPASS",
      noBudget: true,
      after: (d) => ({ published_matches: d.searchMatches }),
    },
    {
      name: "post_read",
      what: "GET /v1/posts/:id, distinct ids (anonymous, MISS)",
      load: (d) => ({ nextPath: d.cold.next }),
      cache: "MISS",
    },
  ].filter((def) => !ONLY || ONLY.has(def.name));

  const rows = [];
  for (const [index, def] of definitions.entries()) {
    const pair = {};
    // Interleaved, alternating which dataset goes first, so drifting background load and any
    // order effect hit both sides alike.
    for (const d of index % 2 === 0 ? [small, large] : [large, small]) {
      pair[d.name] = await runScenario(d.server, {
        name: def.name,
        label: `${def.name} @ ${d.total.toLocaleString("en-US")} posts: ${def.what}`,
        load: def.load(d),
        expectCache: def.cache,
        after:
          def.name === "post_read"
            ? () => ({ cache_bumps: d.cold.stats.bumps, pool_size: d.dataset.publishedIds.length })
            : def.after && (() => def.after(d)),
      });
    }
    const side = (r) => ({
      rps: Number(r.rps.toFixed(1)),
      p50_ms: r.p50_ms,
      p99_ms: r.p99_ms,
      errors: r.errors,
      requests: r.requests,
      x_cache: r.x_cache,
      ...(r.pool_size ? { pool_size: r.pool_size, cache_bumps: r.cache_bumps } : {}),
      ...(r.published_matches ? { published_matches: r.published_matches } : {}),
    });
    const a = pair[small.name];
    const b = pair[large.name];
    const slowdown = a.rps / b.rps;
    rows.push({
      name: def.name,
      query: def.what,
      at_1k: side(a),
      at_100k: side(b),
      slowdown_rps: Number(slowdown.toFixed(3)),
      slowdown_p50: a.p50_ms > 0 ? Number((b.p50_ms / a.p50_ms).toFixed(3)) : null,
      // Search ranks every match, so it grows with the matches: measured against the list, no budget.
      budget: def.noBudget ? null : SCALE_BUDGET,
      budget_met: def.noBudget ? null : slowdown <= SCALE_BUDGET,
    });
  }
  const stats = { small: await small.server.stats(), large: await large.server.stats() };
  await cleanup();

  const meta = baseMeta({
    datasets: {
      "posts-1k": "10 authors x 100 posts (every 10th a draft): 1,000 posts, 900 published",
      "posts-100k": "1,000 authors x 100 posts (every 10th a draft): 100,000 posts, 90,000 published",
    },
    per_author_list: "an author with 100 posts in both datasets (first page of 20)",
    deep_cursor:
      "found by walking GET /v1/posts?limit=100 five times (anonymous); the page of 20 after 500 published posts",
    slowdown: "rps at 1,000 posts / rps at 100,000 posts (budget <= 1.5); slowdown_p50 = p50 at 100k / p50 at 1k",
    worker_log_lines_dropped: stats.small.logLines + stats.large.logLines,
    loadavg_at_end: os.loadavg().map((v) => Number(v.toFixed(2))),
    wall_time_s: Math.round((Date.now() - started) / 1000),
  });
  const output = { scenarios: rows, meta };
  writeFileSync(OUT, toJson(output));

  console.log(`\nedge-posts-api scale benchmark — ${meta.date}`);
  console.log(
    `${meta.machine.cpu} x${meta.machine.cores}, Node ${meta.versions.node}, wrangler ${meta.versions.wrangler}, workerd ${meta.versions.workerd}`,
  );
  console.log(
    `${meta.harness_short}; ${CONNECTIONS} connections; ${WARMUP} s warm-up + ${DURATION} s per query and dataset; every request uncached\n`,
  );
  printTable(
    ["query", "rps@1k", "rps@100k", "p50@1k", "p50@100k", "p99@1k", "p99@100k", "errors", "slower", "≤1.5×"],
    rows.map((r) => [
      r.name,
      fmt(r.at_1k.rps),
      fmt(r.at_100k.rps),
      fmt(r.at_1k.p50_ms),
      fmt(r.at_100k.p50_ms),
      fmt(r.at_1k.p99_ms),
      fmt(r.at_100k.p99_ms),
      r.at_1k.errors + r.at_100k.errors,
      `${r.slowdown_rps.toFixed(2)}×`,
      r.budget_met == null ? "-" : r.budget_met ? "yes" : "NO",
    ]),
  );
  console.log(`\nload average start ${meta.machine.loadavg_at_start.join(" ")}, end ${meta.loadavg_at_end.join(" ")}`);
  console.log(`wrote ${rel(OUT)} in ${meta.wall_time_s} s`);
}

// ---------------------------------------------------------------------------------------------

try {
  warnIfBusy();
  await (args.scale ? scaleRun() : defaultRun());
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.stack : error}`);
  await cleanup();
  process.exitCode = 1;
}
