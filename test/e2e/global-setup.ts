// Starts the README's `npm run dev` (a real `wrangler dev` with local D1 and KV) once for all
// end-to-end tests, and stops it afterwards. The tests reach it through a recording proxy
// (recording-proxy.ts): `baseUrl` is the proxy, and every exchange is checked against the served
// /openapi.json after each file (conformance-setup.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { createServer, type Server } from "node:net";
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

/**
 * Ports the OS has free right now, all different (each probe stays open until all are known). Two
 * suites running at once in different clones must not share a dev server port or wrangler's
 * inspector port (its default, 9229, is probed and taken by whichever dev server gets there first).
 */
async function freePorts(count: number): Promise<number[]> {
  const probes = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const probe = createServer();
          probe.once("error", reject);
          probe.listen(0, "127.0.0.1", () => resolve(probe));
        }),
    ),
  );
  const ports = probes.map((probe) => {
    const address = probe.address();
    return typeof address === "object" && address ? address.port : 0;
  });
  await Promise.all(probes.map((probe) => new Promise((resolve) => probe.close(resolve))));
  return ports;
}

/** Resolves once `url` answers 200; rejects when the server exits first or the time is up. */
async function waitUntilReady(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`wrangler dev exited before it was ready. Output:\n${output()}`);
    }
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev was not ready after ${timeoutMs} ms. Output:\n${output()}`);
}

function stop(child: ChildProcess | undefined): void {
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

/** Tries again with other ports when a port picked above was taken before wrangler bound it. */
const START_ATTEMPTS = 3;

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
let proxy: HttpServer | undefined;

export default async function setup(project: TestProject) {
  const logDir = mkdtempSync(join(tmpdir(), "e2e-dev-log-"));
  const devLogPath = join(logDir, "wrangler-dev.log");
  const trafficPath = join(logDir, "traffic.jsonl");
  writeFileSync(trafficPath, "");
  let directUrl = "";
  for (let attempt = 1; ; attempt++) {
    const [port, inspectorPort] = await freePorts(2);
    directUrl = `http://127.0.0.1:${port}`;
    let output = "";
    // `info`: the simulated EMAIL binding reports each message (and the files holding its parts) at
    // that level, and test/e2e/account-recovery.test.ts reads the mail from there.
    const args = ["--port", String(port), "--inspector-port", String(inspectorPort), "--ip", "127.0.0.1"];
    server = spawn("npm", ["run", "dev", "--", ...args, "--log-level", "info"], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      // This run's own dev registry: another clone's `wrangler dev` of the same Worker name is
      // not this one's business.
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CI: "true",
        WRANGLER_REGISTRY_PATH: join(logDir, "registry"),
      },
    });
    const capture = (chunk: Buffer) => {
      output += chunk.toString();
      appendFileSync(devLogPath, chunk);
    };
    server.stdout?.on("data", capture);
    server.stderr?.on("data", capture);
    try {
      await waitUntilReady(`${directUrl}/health/ready`, server, 90_000, () => output);
      break;
    } catch (error) {
      stop(server);
      const portTaken = /EADDRINUSE|address already in use/i.test(output);
      if (!portTaken || attempt >= START_ATTEMPTS) {
        rmSync(logDir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const [proxyPort = 0] = await freePorts(1);
  proxy = await startRecordingProxy(proxyPort, Number(new URL(directUrl).port), trafficPath);
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
    server?.stdout?.removeAllListeners("data");
    server?.stderr?.removeAllListeners("data");
    stop(server);
    rmSync(logDir, { recursive: true, force: true });
  };
}
