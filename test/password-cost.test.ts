// The password hashing cost production runs at. test/setup.ts makes hashing cheap for the rest of
// the suite (src/auth/password.ts says why); this file first drops the module graph that hook
// touched, so the Worker it calls and the password module it checks load as in production.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  base64Url,
  expectTokenPair,
  expectUnauthorized,
  fromBase64Url,
  HASH_FORMAT,
  INVALID_CREDENTIALS,
  legacyHash,
  pbkdf2,
  storedPasswordHash,
} from "./auth-helpers";
import { createUser, login } from "./helpers";

const PASSWORD = "correct horse battery";

/** The password module as production loads it (imported after the reset below). */
let production: typeof import("../src/auth/password");

beforeAll(async () => {
  // Every later import, and the Worker behind `exports.default`, loads afresh: no test hook.
  vi.resetModules();
  production = await import("../src/auth/password");
});

describe("password hashing at the production cost", () => {
  it("stores the password as pbkdf2_sha256$100000$<salt>$<hash> with a random salt", async () => {
    const first = await createUser({ password: PASSWORD });
    const second = await createUser({ password: PASSWORD });
    const stored = await storedPasswordHash(first.id);
    const match = HASH_FORMAT.exec(stored);
    expect(match).not.toBeNull();
    const [, iterations = "", salt = "", hash = ""] = match ?? [];
    expect(iterations).toBe("100000");
    // Recomputed without src/: the hash really is PBKDF2-HMAC-SHA256 of the password and that salt.
    expect(base64Url(await pbkdf2(PASSWORD, fromBase64Url(salt), 100_000))).toBe(hash);
    expect(stored).not.toContain(PASSWORD);
    const other = await storedPasswordHash(second.id);
    expect(other).toMatch(HASH_FORMAT);
    expect(other.split("$")[2]).not.toBe(salt);
    expect(other.split("$")[3]).not.toBe(hash);
  });

  it("checks unknown emails against a real-cost hash (same work as a wrong password)", async () => {
    const { DUMMY_PASSWORD_HASH, needsRehash, verifyPassword } = production;
    expect(DUMMY_PASSWORD_HASH).toMatch(HASH_FORMAT);
    expect(needsRehash(DUMMY_PASSWORD_HASH)).toBe(false);
    expect(await verifyPassword(PASSWORD, DUMMY_PASSWORD_HASH)).toBe(false);
  });

  it("re-hashes an old-format hash to the current parameters on a successful login", async () => {
    const { needsRehash, verifyPassword } = production;
    const session = await createUser();
    const old = await legacyHash(session.password, 1000);
    expect(needsRehash(old)).toBe(true);
    expect(await verifyPassword(session.password, old)).toBe(true);
    await env.DB.prepare("update users set password_hash = ? where id = ?").bind(old, session.id).run();

    // A failed login leaves the old hash alone.
    await expectUnauthorized(await login(session.email, "not the password"), INVALID_CREDENTIALS);
    expect(await storedPasswordHash(session.id)).toBe(old);

    await expectTokenPair(await login(session.email, session.password), 200);
    const upgraded = await storedPasswordHash(session.id);
    expect(upgraded).not.toBe(old);
    expect(HASH_FORMAT.exec(upgraded)?.[1]).toBe("100000");
    expect(needsRehash(upgraded)).toBe(false);
    expect(await verifyPassword(session.password, upgraded)).toBe(true);
    expect((await login(session.email, session.password)).status).toBe(200);
    expect(await storedPasswordHash(session.id)).toBe(upgraded);
  });

  it("verifies a hash made at the test cost, and upgrades it to the full cost on the next login", async () => {
    const { needsRehash, TEST_PBKDF2_ITERATIONS, verifyPassword } = production;
    const session = await createUser();
    const cheap = await legacyHash(session.password, TEST_PBKDF2_ITERATIONS);
    expect(cheap.startsWith(`pbkdf2_sha256$${TEST_PBKDF2_ITERATIONS}$`)).toBe(true);
    expect(await verifyPassword(session.password, cheap)).toBe(true);
    expect(await verifyPassword("not the password", cheap)).toBe(false);
    expect(needsRehash(cheap)).toBe(true);
    await env.DB.prepare("update users set password_hash = ? where id = ?").bind(cheap, session.id).run();
    await expectTokenPair(await login(session.email, session.password), 200);
    expect(HASH_FORMAT.exec(await storedPasswordHash(session.id))?.[1]).toBe("100000");
  });
});
