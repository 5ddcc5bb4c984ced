import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Long enough for the config check (>= 32 characters); only ever used by the test runtime. */
const TEST_JWT_SECRET = "test-secret-for-vitest-only-0123456789abcdef";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { JWT_SECRET: TEST_JWT_SECRET, TEST_MIGRATIONS: migrations },
              },
            }),
          ],
          test: {
            name: "workers",
            silent: "passed-only",
            include: ["test/**/*.test.ts"],
            exclude: ["test/e2e/**", "test/node/**"],
            setupFiles: ["./test/setup.ts"],
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
            // One wrangler dev serves every file; run them one after another.
            fileParallelism: false,
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
