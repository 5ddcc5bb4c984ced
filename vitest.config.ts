import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** Long enough for the config check (>= 32 characters); only ever used by the test runtime. */
const TEST_JWT_SECRET = "test-secret-for-vitest-only-0123456789abcdef";

const LIMITERS = [
  "LOGIN_IP_LIMITER",
  "LOGIN_EMAIL_LIMITER",
  "REGISTER_IP_LIMITER",
  "REFRESH_IP_LIMITER",
  "POST_WRITE_USER_LIMITER",
] as const;

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      // The Worker's one-line-per-request log would drown the report (`--silent=false` shows
      // it); tests that check logging spy on console.log directly.
      silent: true,
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: { JWT_SECRET: TEST_JWT_SECRET, TEST_MIGRATIONS: migrations },
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
            }),
          ],
          test: {
            name: "workers",
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
