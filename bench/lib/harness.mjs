// Parent-side plumbing: a temporary workspace (config copy with raised rate limits, the Worker
// bundle, one persistence dir per dataset), wrangler CLI calls, and bench server processes that
// are always killed (whole process group) on exit, error or Ctrl-C.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WRANGLER_BIN = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
const SERVER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "server.mjs");

/** Rate limits in the temporary config: high enough that no scenario is ever throttled. */
export const RAISED_RATE_LIMIT = 1_000_000;

const CHILD_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", NO_COLOR: "1", FORCE_COLOR: "0" };

const servers = new Set();
const commands = new Set(); // wrangler CLI calls in flight
let workspaceDir;
let keepWorkspace = false;

/** Runs a command with a time limit; rejects with its output when it fails. */
export function run(command, args, { timeoutMs = 180_000, cwd = ROOT } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env: CHILD_ENV, stdio: ["ignore", "pipe", "pipe"], detached: true });
    commands.add(child);
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => {
      killGroup(child.pid, "SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      commands.delete(child);
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${command} ${args.join(" ")} exited with ${code}\n${output}`));
    });
  });
}

export const wrangler = (args, opts) => run(process.execPath, [WRANGLER_BIN, ...args], opts);

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Creates the temporary workspace:
 * - wrangler.toml: a copy of the project's, with every `main`, `migrations_dir` and `[assets]
 *   directory` made absolute (they are resolved relative to the config file) and every
 *   [[ratelimits]] `limit` (environments' too) raised to RAISED_RATE_LIMIT, so the benchmark
 *   measures the Worker, not the limiter. The Worker runs with the top-level (no --env) settings;
 * - dist/index.js: the bundle `wrangler deploy --dry-run` builds, i.e. what would be deployed.
 * With `stubConsoleLog`, `main` becomes a wrapper entry that re-exports the Worker with
 * console.log replaced by a no-op (to measure what the per-request log line costs).
 */
export async function prepareWorkspace({ keep = false, stubConsoleLog = false } = {}) {
  keepWorkspace = keep;
  workspaceDir = mkdtempSync(join(tmpdir(), "edge-posts-bench-"));
  let entry;
  if (stubConsoleLog) {
    // Named index.ts so the bundle is still dist/index.js.
    mkdirSync(join(workspaceDir, "no-request-log"));
    entry = join(workspaceDir, "no-request-log", "index.ts").replaceAll("\\", "/");
    const workerMain =
      /^main\s*=\s*"([^"]*)"/m.exec(readFileSync(join(ROOT, "wrangler.toml"), "utf8"))?.[1] ?? "src/index.ts";
    writeFileSync(
      entry,
      `import worker from ${JSON.stringify(resolve(ROOT, workerMain))};\nconsole.log = () => {};\nexport default worker;\n`,
    );
  }
  await run(process.execPath, [join(ROOT, "scripts", "copy-docs-assets.mjs")]);

  const original = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const absolute = (relative) => resolve(ROOT, relative).replaceAll("\\", "/");
  let raisedLimits = 0;
  let toml = original
    .replace(/^main\s*=\s*"([^"]*)"/gm, (_, path) => `main = "${entry ?? absolute(path)}"`)
    .replace(/^migrations_dir\s*=\s*"([^"]*)"/gm, (_, path) => `migrations_dir = "${absolute(path)}"`)
    .replace(/^directory\s*=\s*"([^"]*)"/gm, (_, path) => `directory = "${absolute(path)}"`)
    .replace(/(simple\s*=\s*\{[^}]*\blimit\s*=\s*)\d+/g, (_, head) => {
      raisedLimits++;
      return `${head}${RAISED_RATE_LIMIT}`;
    });
  // Top-level and per-environment ([[env.<name>.ratelimits]]) limiters alike.
  const limiters = (original.match(/^\[\[(?:env\.[^\]]+\.)?ratelimits\]\]/gm) ?? []).length;
  if (raisedLimits !== limiters) {
    throw new Error(
      `raised ${raisedLimits} of ${limiters} [[ratelimits]] limits: the config format changed, update bench/lib/harness.mjs`,
    );
  }
  toml = `# Generated by bench/lib/harness.mjs from ${join(ROOT, "wrangler.toml")}: absolute paths, rate limits raised.\n${toml}`;
  const configPath = join(workspaceDir, "wrangler.toml");
  writeFileSync(configPath, toml);

  const distDir = join(workspaceDir, "dist");
  await wrangler(["deploy", "--dry-run", "--outdir", distDir, "-c", configPath]);
  return { dir: workspaceDir, configPath, distDir, scriptPath: join(distDir, "index.js"), raisedLimits };
}

/** A fresh persistence dir with the project's migrations applied (exactly as `npm run dev` does). */
export async function freshDatabase(workspace, name) {
  const persistTo = join(workspace.dir, name);
  mkdirSync(persistTo, { recursive: true });
  await wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo, "-c", workspace.configPath]);
  return persistTo;
}

/** Starts a bench server on a free 127.0.0.1 port; resolves once the Worker answers /health. */
export async function startServer(workspace, persistTo, { mode = "direct", timeoutMs = 60_000 } = {}) {
  const jwtSecret = randomBytes(36).toString("base64url"); // 48 characters
  const options = {
    name: "edge-posts-api",
    configPath: workspace.configPath,
    scriptPath: workspace.scriptPath,
    modulesRoot: workspace.distDir,
    persistPath: join(persistTo, "v3"),
    tmpPath: join(persistTo, "tmp"),
    jwtSecret,
    mode,
  };
  const child = spawn(process.execPath, [SERVER_SCRIPT, JSON.stringify(options)], {
    cwd: ROOT,
    env: CHILD_ENV,
    detached: true,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  child.stdout.on("data", (chunk) => {
    output = (output + chunk).slice(-20_000);
  });
  child.stderr.on("data", (chunk) => {
    output = (output + chunk).slice(-20_000);
  });
  let nextId = 1;
  const pending = new Map();
  let exited = false;
  const server = {
    pid: child.pid,
    url: undefined,
    output: () => output,
    call(type, payload = {}) {
      if (exited) return Promise.reject(new Error(`bench server exited\n${output}`));
      const id = nextId++;
      return new Promise((resolvePromise, reject) => {
        pending.set(id, { resolve: resolvePromise, reject });
        child.send({ id, type, ...payload });
      });
    },
    d1Batch: (statements) => server.call("d1batch", { statements }),
    d1All: (sql) => server.call("d1all", { sql }),
    kvPut: (key, value, options) => server.call("kvput", { key, value, options }),
    stats: () => server.call("stats"),
    stop: () => stopServer(server),
    child,
  };
  servers.add(server);
  const ready = new Promise((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`bench server not ready after ${timeoutMs} ms\n${output}`)),
      timeoutMs,
    );
    child.on("message", (message) => {
      if (message.type === "ready") {
        clearTimeout(timer);
        resolvePromise(message.url);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(message.error));
    });
    child.on("exit", (code) => {
      exited = true;
      clearTimeout(timer);
      for (const waiter of pending.values()) waiter.reject(new Error(`bench server exited (${code})\n${output}`));
      pending.clear();
      reject(new Error(`bench server exited (${code}) before it was ready\n${output}`));
    });
  });
  const url = (await ready).replace(/\/$/, "");
  const response = await fetch(`${url}/health/ready`);
  if (response.status !== 200) throw new Error(`/health/ready answered ${response.status}: ${await response.text()}`);
  server.url = url;
  return server;
}

async function stopServer(server) {
  if (!servers.delete(server)) return;
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolvePromise) => child.once("exit", resolvePromise));
  killGroup(child.pid, "SIGTERM");
  const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
  // workerd is in the same group; make sure nothing of it is left.
  killGroup(child.pid, "SIGKILL");
}

/** Stops every server and removes the workspace. Safe to call more than once. */
export async function cleanup() {
  for (const child of commands) killGroup(child.pid, "SIGKILL");
  commands.clear();
  await Promise.all([...servers].map((server) => stopServer(server)));
  if (workspaceDir && !keepWorkspace) {
    rmSync(workspaceDir, { recursive: true, force: true });
    workspaceDir = undefined;
  }
}

/** Synchronous last resort (process 'exit' handler): signal every server group. */
export function killAllNow() {
  for (const child of commands) killGroup(child.pid, "SIGKILL");
  commands.clear();
  for (const server of servers) {
    killGroup(server.child.pid, "SIGKILL");
  }
  servers.clear();
  if (workspaceDir && !keepWorkspace) rmSync(workspaceDir, { recursive: true, force: true });
}
