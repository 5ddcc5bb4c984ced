import { fromBase64Url, randomBytes, toBase64Url } from "../lib/encoding";

/**
 * The most PBKDF2 iterations production workerd allows ("iteration counts above 100000 are not
 * supported"). Local workerd has no cap, so a test pins this value.
 */
export const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const SCHEME = "pbkdf2_sha256";

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
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `${SCHEME}$${PBKDF2_ITERATIONS}$${toBase64Url(salt)}$${toBase64Url(hash)}`;
}

/** Constant-time check of a password against a stored hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parse(encoded);
  if (!parsed) return false;
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return crypto.subtle.timingSafeEqual(candidate, parsed.hash);
}

/** True when a stored hash uses older parameters and should be replaced after a good login. */
export function needsRehash(encoded: string): boolean {
  return parse(encoded)?.iterations !== PBKDF2_ITERATIONS;
}

/**
 * A well-formed hash of a random password nobody knows. Verifying against it costs the same as a
 * real check, so an unknown email takes as long as a wrong password.
 */
export const DUMMY_PASSWORD_HASH = `${SCHEME}$${PBKDF2_ITERATIONS}$AAAAAAAAAAAAAAAAAAAAAA$${"A".repeat(43)}`;
