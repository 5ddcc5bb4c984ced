// Starts the README's `npm run dev` (a real `wrangler dev` with local D1 and KV) once for all
// end-to-end tests, and stops it afterwards. The tests reach it through a recording proxy
// (recording-proxy.ts): `baseUrl` is the proxy, and every exchange is checked against the served
// /openapi.json after each file (conformance-setup.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { API_FALLBACKS, Conformance, coverage, type OpenApi } from "./conformance";
import { recorded, startRecordingProxy } from "./recording-proxy";

declare module "vitest" {
  export interface ProvidedContext {
    /** The recording proxy in front of wrangler dev: what every e2e client talks to. */
    baseUrl: string;
    /** wrangler dev itself, for requests that are not part of the traffic under test. */
    directUrl: string;
    /** JSON lines, one recorded exchange each (recording-proxy.ts's `Exchange`). */
    trafficPath: string;
    /** A file that receives everything the dev server prints (e.g. where it wrote a sent mail). */
    devLogPath: string;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(url: string, timeoutMs: number, output: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev was not ready after ${timeoutMs} ms. Output:\n${output()}`);
}

/** Where the run's conformance summary goes (git-ignored). */
const SUMMARY_PATH = "test-results/openapi-conformance.json";

/**
 * After the run: which documented operations the e2e traffic exercised, with the statuses seen,
 * and which it did not (each file's afterAll has already failed on any violation).
 */
async function writeConformanceSummary(directUrl: string, trafficPath: string): Promise<void> {
  const document = (await (await fetch(`${directUrl}/openapi.json`)).json()) as OpenApi;
  const conformance = new Conformance(document, API_FALLBACKS);
  const exchanges = recorded(trafficPath);
  const verdicts = exchanges.map((exchange) => conformance.check(exchange));
  const { operations, unexercised } = coverage(document, verdicts);
  const documented = Object.values(document.paths).reduce((sum, item) => sum + Object.keys(item).length, 0);
  const count = (kind: string) => verdicts.filter((verdict) => verdict.kind === kind).length;
  const summary = {
    checked: count("checked"),
    violations: count("violation"),
    skipped: count("skipped"),
    operations,
    unexercised,
  };
  mkdirSync("test-results", { recursive: true });
  writeFileSync(SUMMARY_PATH, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(
    `e2e conformance: ${summary.checked} responses conform to /openapi.json, ${summary.violations} do not; ` +
      `${documented - unexercised.length} of ${documented} documented operations answered; not exercised: ${unexercised.join(", ") || "none"} (${SUMMARY_PATH})`,
  );
}

let server: ChildProcess | undefined;
let proxy: Server | undefined;

export default async function setup(project: TestProject) {
  const port = await freePort();
  const directUrl = `http://127.0.0.1:${port}`;
  let output = "";
  const logDir = mkdtempSync(join(tmpdir(), "e2e-dev-log-"));
  const devLogPath = join(logDir, "wrangler-dev.log");
  const trafficPath = join(logDir, "traffic.jsonl");
  writeFileSync(trafficPath, "");
  // `info`: the simulated EMAIL binding reports each message (and the files holding its parts) at
  // that level, and test/e2e/account-recovery.test.ts reads the mail from there.
  server = spawn("npm", ["run", "dev", "--", "--port", String(port), "--ip", "127.0.0.1", "--log-level", "info"], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  const capture = (chunk: Buffer) => {
    output += chunk.toString();
    appendFileSync(devLogPath, chunk);
  };
  server.stdout?.on("data", capture);
  server.stderr?.on("data", capture);
  await waitUntilReady(`${directUrl}/health/ready`, 90_000, () => output);
  const proxyPort = await freePort();
  proxy = await startRecordingProxy(proxyPort, port, trafficPath);
  project.provide("baseUrl", `http://127.0.0.1:${proxyPort}`);
  project.provide("directUrl", directUrl);
  project.provide("trafficPath", trafficPath);
  project.provide("devLogPath", devLogPath);
  return async () => {
    await writeConformanceSummary(directUrl, trafficPath).catch((error: unknown) => {
      console.error(`e2e conformance summary failed: ${String(error)}`);
    });
    proxy?.closeAllConnections();
    proxy?.close();
    // The dev server may still print (its log of the summary's request, its shutdown): stop
    // capturing before the log file goes.
    server?.stdout?.off("data", capture);
    server?.stderr?.off("data", capture);
    if (server?.pid) {
      try {
        process.kill(-server.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    rmSync(logDir, { recursive: true, force: true });
  };
}
