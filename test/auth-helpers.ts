import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { expect } from "vitest";
import { expectError, json } from "./helpers";

// Helpers of the sign-up and sign-in tests (test/auth.test.ts, test/password-cost.test.ts,
// test/tokens.test.ts).

export type UserJson = {
  id: string;
  email: string;
  name: string;
  role: string;
  is_active: boolean;
  email_verified: boolean;
  created_at: string;
  updated_at: string;
};

export type TokenPair = {
  user: UserJson;
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
};

/** `ACCESS_TOKEN_TTL_SECONDS` in wrangler.toml. */
const ACCESS_TOKEN_TTL_SECONDS = 900;

export const INVALID_CREDENTIALS = "Invalid email or password";
/** `pbkdf2_sha256$<iterations>$<salt>$<hash>`: the stored form of a password. */
export const HASH_FORMAT = /^pbkdf2_sha256\$(\d+)\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

/** The whole 401 envelope: fixed message, empty details, and a Bearer challenge. */
export async function expectUnauthorized(response: Response, message: string): Promise<void> {
  const body = await expectError(response, 401, "AuthenticationError");
  expect(body.error).toBe(message);
  expect(body.details).toEqual({});
  expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
}

/** The contract's token pair, exactly: no extra keys anywhere, and never a hash. */
export async function expectTokenPair(response: Response, status: number): Promise<TokenPair> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = await json<TokenPair>(response);
  expect(Object.keys(body).sort()).toEqual(["access_token", "expires_in", "refresh_token", "token_type", "user"]);
  expect(Object.keys(body.user).sort()).toEqual([
    "created_at",
    "email",
    "email_verified",
    "id",
    "is_active",
    "name",
    "role",
    "updated_at",
  ]);
  expect(JSON.stringify(body)).not.toMatch(/pbkdf2|password/i);
  expect(body.token_type).toBe("Bearer");
  expect(body.expires_in).toBe(ACCESS_TOKEN_TTL_SECONDS);
  const claims = decodeJwt(body.access_token);
  expect(claims.sub).toBe(body.user.id);
  expect(claims.role).toBe(body.user.role);
  expect((claims.exp ?? 0) - Math.floor(claims.iat ?? 0)).toBe(ACCESS_TOKEN_TTL_SECONDS);
  // Opaque, base64url, at least 256 bits.
  expect(body.refresh_token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
  return body;
}

export async function storedPasswordHash(userId: string): Promise<string> {
  const row = await env.DB.prepare("select password_hash from users where id = ?")
    .bind(userId)
    .first<{ password_hash: string }>();
  if (!row) throw new Error(`no user row for ${userId}`);
  return row.password_hash;
}

export function base64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

export async function pbkdf2(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

/** A hash in the stored format, made independently of src/ with whatever iteration count. */
export async function legacyHash(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `pbkdf2_sha256$${iterations}$${base64Url(salt)}$${base64Url(await pbkdf2(password, salt, iterations))}`;
}
