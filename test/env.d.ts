// Bindings that exist only in the test runtime (see vitest.config.ts).
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** A real (Miniflare) limiter of 3 per 60 s, for the 429 tests. */
    TEST_STRICT_LIMITER: RateLimit;
    /** The edge simulation's per-location KV namespaces and D1 read replicas (test/sim/). */
    SIM_KV_A: KVNamespace;
    SIM_KV_B: KVNamespace;
    SIM_KV_C: KVNamespace;
    SIM_REPLICA_A: D1Database;
    SIM_REPLICA_B: D1Database;
    SIM_REPLICA_C: D1Database;
  }
}
