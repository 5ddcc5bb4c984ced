import { randomBytes, sha256Hex, toBase64Url } from "../lib/encoding";

/**
 * Bearer secrets the API hands out and later looks up by hash: refresh tokens and the one-time
 * tokens of mailed links. 256 random bits, so a plain SHA-256 is enough to store them (no salt or
 * slow hash: there is nothing to guess), and only the hash is ever stored.
 */
const SECRET_TOKEN_BYTES = 32;

export const hashSecretToken = sha256Hex;

export async function newSecretToken(): Promise<{ token: string; hash: string }> {
  const token = toBase64Url(randomBytes(SECRET_TOKEN_BYTES));
  return { token, hash: await hashSecretToken(token) };
}
