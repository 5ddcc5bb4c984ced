#!/usr/bin/env node
// Measures what each way of running the Worker locally costs between the client and the Worker:
// GET /health (no storage) at 10 connections, each harness in turn, two alternating rounds.
//   npx node bench/compare-harness.mjs [--duration 5] [--rounds 2]  -> bench/results-harness.json
//
//   wrangler-dev          `wrangler dev` CLI: ProxyWorker (own workerd) -> user workerd
//   start-worker          wrangler's unstable_startWorker (same DevEnv as wrangler dev), own process
//   miniflare-full        Miniflare with wrangler's options: entry worker -> assets router -> Worker
//   miniflare-direct      Miniflare, client on the Worker's own socket (what bench/run.mjs uses)
// All four run the same Worker source with the same temporary config (rate limits raised).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cleanup, freshDatabase, killAllNow, prepareWorkspace, startServer } from "./lib/harness.mjs";
import { toJson } from "./lib/json.mjs";
import { measure } from "./lib/load.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    child: { type: "string" },
  },
});

function freePort() {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolvePromise(port));
    });
  });
}

async function waitForHealth(url, child, output, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited early:\n${output()}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`not ready after ${timeoutMs} ms:\n${output()}`);
}

const children = new Set();
function spawnGroup(command, argv) {
  const child = spawn(command, argv, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  let output = "";
  child.stdout.on("data", (c) => {
    output = (output + c).slice(-10_000);
  });
  child.stderr.on("data", (c) => {
    output = (output + c).slice(-10_000);
  });
  children.add(child);
  return { child, output: () => output };
}
function killChild(child) {
  children.delete(child);
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // gone
  }
  setTimeout(() => {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  }, 3000).unref();
}
process.on("exit", () => {
  for (const child of children) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  killAllNow();
});
process.on("SIGINT", () => process.exit(130));

async function main() {
  const duration = Number(args.duration);
  const rounds = Number(args.rounds);
  const workspace = await prepareWorkspace({});
  const persistTo = await freshDatabase(workspace, "data");
  const jwtSecret = randomBytes(36).toString("base64url");
  const wranglerBin = join(dirname(fileURLToPath(import.meta.resolve("wrangler/package.json"))), "bin", "wrangler.js");

  const harnesses = {
    "wrangler-dev": async () => {
      const port = await freePort();
      const argv = [
        wranglerBin,
        "dev",
        "-c",
        workspace.configPath,
        "--port",
        String(port),
        "--ip",
        "127.0.0.1",
        "--log-level",
        "warn",
        "--persist-to",
        persistTo,
        "--var",
        `JWT_SECRET:${jwtSecret}`,
      ];
      const { child, output } = spawnGroup(process.execPath, argv);
      const url = `http://127.0.0.1:${port}`;
      await waitForHealth(url, child, output);
      return { url, stop: () => killChild(child) };
    },
    "start-worker": async () => {
      const port = await freePort();
      const { child, output } = spawnGroup(process.execPath, [
        fileURLToPath(import.meta.url),
        "--child",
        JSON.stringify({ configPath: workspace.configPath, persistTo, jwtSecret, port }),
      ]);
      const url = `http://127.0.0.1:${port}`;
      await waitForHealth(url, child, output);
      return { url, stop: () => killChild(child) };
    },
    "miniflare-full": async () => {
      const server = await startServer(workspace, persistTo, { mode: "full" });
      return { url: server.url, stop: () => server.stop() };
    },
    "miniflare-direct": async () => {
      const server = await startServer(workspace, persistTo, { mode: "direct" });
      return { url: server.url, stop: () => server.stop() };
    },
  };

  const samples = Object.fromEntries(Object.keys(harnesses).map((name) => [name, []]));
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const [name, start] of Object.entries(harnesses)) {
        process.stderr.write(`round ${round}: ${name}… `);
        const running = await start();
        try {
          const r = await measure({
            baseUrl: running.url,
            path: "/health",
            connections: 10,
            warmupSec: 2,
            durationSec: duration,
          });
          samples[name].push(r);
          process.stderr.write(
            `${Math.round(r.rps)} rps, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms, errors ${r.errors}\n`,
          );
        } finally {
          await running.stop();
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }
  } finally {
    await cleanup();
  }

  const rows = Object.entries(samples).map(([name, list]) => {
    const avg = (key) => list.reduce((sum, r) => sum + r[key], 0) / list.length;
    return {
      name,
      rps: Number(avg("rps").toFixed(1)),
      p50_ms: avg("p50_ms"),
      p99_ms: avg("p99_ms"),
      errors: list.reduce((s, r) => s + r.errors, 0),
      rounds: list.map((r) => Math.round(r.rps)),
    };
  });
  const best = Math.max(...rows.map((r) => r.rps));
  console.log(
    `\nGET /health, 10 connections, ${duration} s x ${rounds} rounds (mean), ${os.cpus()[0]?.model} x${os.cpus().length}, load avg ${os
      .loadavg()
      .map((v) => v.toFixed(2))
      .join(" ")}\n`,
  );
  console.log(
    `${"harness".padEnd(18)}${"rps".padStart(8)}${"p50 ms".padStart(8)}${"p99 ms".padStart(8)}${"vs best".padStart(9)}  rounds`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(18)}${String(Math.round(r.rps)).padStart(8)}${r.p50_ms.toFixed(1).padStart(8)}${r.p99_ms.toFixed(1).padStart(8)}${(r.rps / best).toFixed(2).padStart(9)}  ${r.rounds.join(", ")}`,
    );
  }
  writeFileSync(
    join(HERE, "results-harness.json"),
    toJson({
      scenario: "GET /health",
      harnesses: rows,
      meta: {
        date: new Date().toISOString(),
        duration_s: duration,
        rounds,
        cores: os.cpus().length,
        loadavg_at_end: os.loadavg().map((v) => Number(v.toFixed(2))),
      },
    }),
  );
  console.log("\nwrote bench/results-harness.json");
}

// Child mode: run unstable_startWorker in its own process (so it does not share the load
// generator's event loop), print the URL, stay up until killed.
async function child() {
  const { unstable_startWorker } = await import("wrangler");
  const options = JSON.parse(args.child);
  const worker = await unstable_startWorker({
    config: options.configPath,
    bindings: { JWT_SECRET: { type: "secret_text", value: options.jwtSecret } },
    dev: {
      server: { hostname: "127.0.0.1", port: options.port },
      inspector: false,
      persist: options.persistTo,
      logLevel: "warn",
      watch: false,
    },
  });
  await worker.ready;
  console.log(`READY ${await worker.url}`);
  process.on("SIGTERM", () => worker.dispose().finally(() => process.exit(0)));
  setInterval(() => {}, 60_000);
}

await (args.child ? child() : main());
