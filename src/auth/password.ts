import { fromBase64Url, randomBytes, toBase64Url } from "../lib/encoding";

/**
 * The most PBKDF2 iterations production workerd allows ("iteration counts above 100000 are not
 * supported"). Local workerd has no cap, so a test pins this value.
 */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SCHEME = "pbkdf2_sha256";

/**
 * The cost new hashes get while the test suite runs, the way Django's test settings swap in a fast
 * hasher: at 100,000 iterations (~30 ms each) the suite's ~800 sign-ups and logins were its
 * largest single cost. Same scheme and format, so such a hash verifies like any other.
 */
export const TEST_PBKDF2_ITERATIONS = 1;

/**
 * Iterations for new hashes. Production never changes it: the only way to lower it is
 * `useTestPasswordHashCost`, which only test/setup.ts calls (test/node/password-cost.test.ts fails
 * when anything else names it), and test/password-cost.test.ts hashes through a fresh module graph
 * that no hook has touched to show that the default is the full cost.
 */
let hashIterations = PBKDF2_ITERATIONS;

/**
 * Test-suite hook: new hashes use `TEST_PBKDF2_ITERATIONS` in this module instance from now on.
 * Hashes of any cost up to the cap keep verifying (the count travels with the hash), and a stored
 * full-cost hash is never rehashed down to it.
 */
export function useTestPasswordHashCost(): void {
  hashIterations = TEST_PBKDF2_ITERATIONS;
}

type ParsedHash = { iterations: number; salt: Uint8Array; hash: Uint8Array };

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    HASH_BYTES * 8,
  );
  return new Uint8Array(bits);
}

function parse(encoded: string): ParsedHash | null {
  const [scheme, iterationsText, saltText, hashText, ...rest] = encoded.split("$");
  if (scheme !== SCHEME || rest.length > 0 || !iterationsText || !saltText || !hashText) return null;
  const iterations = Number(iterationsText);
  const salt = fromBase64Url(saltText);
  const hash = fromBase64Url(hashText);
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > PBKDF2_ITERATIONS) return null;
  if (!salt || !hash || hash.length !== HASH_BYTES) return null;
  return { iterations, salt, hash };
}

/** `pbkdf2_sha256$<iterations>$<salt>$<hash>`: the parameters travel with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const iterations = hashIterations;
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, iterations);
  return `${SCHEME}$${iterations}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/** Constant-time check of a password against a stored hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return crypto.subtle.timingSafeEqual(candidate, parsed.hash);
}

/**
 * True when a stored hash is malformed or cheaper than new hashes and should be replaced after a
 * good login. (In production every valid hash is at most `PBKDF2_ITERATIONS`, so this is "not the
 * current parameters"; under the test cost a full-cost hash is not rehashed down.)
 */
export function needsRehash(encoded: string): boolean {
  const parsed = parse(encoded);
  return parsed === null || parsed.iterations < hashIterations;
}

/**
 * A well-formed hash of a random password nobody knows. Verifying against it costs the same as a
 * real check, so an unknown email takes as long as a wrong password.
 */
export const DUMMY_PASSWORD_HASH = `${SCHEME}$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$${"A".repeat(43)}`;
