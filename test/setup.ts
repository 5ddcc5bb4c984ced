import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { useTestPasswordHashCost } from "../src/auth/password";

// Storage is isolated per test file; applying is idempotent within a file.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
// Cheap password hashing for the suite (src/auth/password.ts says why and how production is kept
// at full cost). The Worker that `exports.default` reaches shares this module graph.
useTestPasswordHashCost();
