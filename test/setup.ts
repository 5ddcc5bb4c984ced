import { useTestPasswordHashCost } from "../src/auth/password";

// Cheap password hashing for the suite; src/auth/password.ts says why and how production stays at
// full cost. The Worker behind `exports.default` and the app a test imports share this module
// graph. (This file imports nothing else: importing `cloudflare:test` here would load the Worker's
// modules before a test file's `vi.mock` could replace one, which test/sim relies on.)
useTestPasswordHashCost();
