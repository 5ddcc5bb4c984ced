import { availableParallelism } from "node:os";
import { relative } from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Long enough for the config check (>= 32 characters); only ever used by the test runtime. */
const TEST_JWT_SECRET = "test-secret-for-vitest-only-0123456789abcdef";

const LIMITERS = [
  "LOGIN_IP_LIMITER",
  "LOGIN_EMAIL_LIMITER",
  "LOGIN_ACCOUNT_LIMITER",
  "REGISTER_IP_LIMITER",
  "REFRESH_IP_LIMITER",
  "POST_WRITE_USER_LIMITER",
  "PASSWORD_RESET_IP_LIMITER",
  "PASSWORD_RESET_EMAIL_LIMITER",
  "EMAIL_VERIFICATION_IP_LIMITER",
  "EMAIL_VERIFICATION_EMAIL_LIMITER",
] as const;

/** Locations of the edge simulation; each has its own KV namespace and D1 read replica. */
const SIM_LOCATIONS = ["A", "B", "C"] as const;

/**
 * The packages the Worker and the tests import, pre-bundled once per run. The test runtime inlines
 * every dependency, so without this each test file loaded zod, hono, drizzle and jose module by
 * module through the module runner: about 6 s of each file's start-up on a busy 2-core machine,
 * 2.5 s with them bundled. Every entry point the code imports is listed, so each package is bundled
 * once (shared chunks) and its classes stay one identity across entry points.
 */
export const WORKER_DEPS = {
  optimizer: {
    ssr: {
      enabled: true,
      include: [
        "hono",
        "hono/factory",
        "hono/cors",
        "hono/http-exception",
        "hono/utils/http-status",
        "zod/mini",
        "zod/v4/core",
        "drizzle-orm",
        "drizzle-orm/sqlite-core",
        "drizzle-orm/d1",
        "jose",
        "@hono/zod-validator",
        "fast-check",
        "@cfworker/json-schema",
      ],
    },
  },
};

/**
 * Longest files first, across projects. Vitest's own order runs the projects one after another
 * by name, so the workers project's longest files (fuzz, permissions) started only after the
 * edge simulation's and left one worker idle at the end. Durations come from Vitest's results
 * cache (node_modules/.vite); files it has not timed yet go first, larger first, as in Vitest.
 */
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const { cache, config } = this.ctx;
    const key = (spec: TestSpecification) => `${spec.project.name}:${relative(config.root, spec.moduleId)}`;
    const duration = (spec: TestSpecification) => cache.getFileTestResults(key(spec))?.duration;
    const size = (spec: TestSpecification) => cache.getFileStats(key(spec))?.size ?? 0;
    return [...files].sort((a, b) => {
      const [da, db] = [duration(a), duration(b)];
      if (da === undefined || db === undefined) {
        if (da !== db) return da === undefined ? -1 : 1;
        return size(b) - size(a);
      }
      return db - da;
    });
  }
}

/** The workerd runtime with the Worker's bindings, its migrations, and test-only bindings. */
export function workersRuntime(migrations: Awaited<ReturnType<typeof readD1Migrations>>) {
  return cloudflareTest({
    wrangler: { configPath: "./wrangler.toml" },
    miniflare: {
      bindings: { JWT_SECRET: TEST_JWT_SECRET, TEST_MIGRATIONS: migrations },
      kvNamespaces: SIM_LOCATIONS.map((location) => `SIM_KV_${location}`),
      d1Databases: SIM_LOCATIONS.map((location) => `SIM_REPLICA_${location}`),
      // The suite makes many accounts from one address, so the production limits are
      // raised here; test/rate-limit.test.ts swaps in TEST_STRICT_LIMITER to see 429s.
      ratelimits: {
        ...Object.fromEntries(
          LIMITERS.map((name, index) => [
            name,
            { namespace_id: String(9001 + index), simple: { limit: 100_000, period: 60 } },
          ]),
        ),
        TEST_STRICT_LIMITER: { namespace_id: "9100", simple: { limit: 3, period: 60 } },
      },
    },
  });
}

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      // The Worker's one-line-per-request log would drown the report (`--silent=false` shows
      // it); tests that check logging spy on console.log directly.
      silent: true,
      // Vitest's default is one worker fewer than the CPUs: a single worker on a 2-core machine,
      // which left the second core idle while each file started (about 2 s each) and while the
      // e2e dev server and the edge simulation waited. One per CPU, at least two.
      maxWorkers: Math.max(2, availableParallelism()),
      sequence: { sequencer: LongestFirst },
      projects: [
        {
          plugins: [workersRuntime(migrations)],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            // test/bench/ holds benchmarks, run by their own npm scripts (vitest.bench.config.ts).
            exclude: ["test/e2e/**", "test/node/**", "test/sim/**", "test/bench/**"],
            setupFiles: ["./test/setup.ts", "./test/setup-migrations.ts"],
            deps: WORKER_DEPS,
          },
        },
        {
          // The edge simulation (test/sim/README.md): several locations, lagging replicas, KV
          // propagation and its per-key write limit, over the real local D1 and KV.
          plugins: [workersRuntime(migrations)],
          test: {
            name: "sim",
            include: ["test/sim/**/*.test.ts"],
            setupFiles: ["./test/setup.ts"],
            deps: WORKER_DEPS,
            testTimeout: 120_000,
          },
        },
        {
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
          },
        },
        {
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            globalSetup: ["./test/e2e/global-setup.ts"],
            // Every response of every file is checked against the served /openapi.json (files that
            // run at the same time each check what was recorded while they ran, others' too).
            setupFiles: ["./test/e2e/conformance-setup.ts"],
            // One wrangler dev serves every file. They may run alongside each other and the other
            // projects (each makes its own accounts, well inside the dev server's
            // REGISTER_IP_LIMITER budget, whatever the order); with fileParallelism off, Vitest
            // would hold them all back until every other file had finished.
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
