import { readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { WORKER_DEPS, workersRuntime } from "./vitest.config";

/**
 * Benchmarks that run in workerd but assert no time, so they are not part of `npm test`:
 * `npm run bench:reset-timing`. No test/setup.ts here: passwords hash at the production cost.
 */
export default defineConfig(async () => ({
  plugins: [workersRuntime(await readD1Migrations("./migrations"))],
  test: {
    name: "bench",
    include: ["test/bench/**/*.test.ts"],
    setupFiles: ["./test/setup-migrations.ts"],
    deps: WORKER_DEPS,
    silent: false,
    // 440 timed requests: a benchmark's length depends on the machine; it asserts no time.
    testTimeout: 120_000,
  },
}));
