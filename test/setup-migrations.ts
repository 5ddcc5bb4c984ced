import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Storage is isolated per test file; applying is idempotent within a file. (The edge simulation
// applies them itself: test/sim/edge.ts.)
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
