// Bindings that exist only in the test runtime (see vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** A real (Miniflare) limiter of 3 per 60 s, for the 429 tests. */
    TEST_STRICT_LIMITER: RateLimit;
  }
}
