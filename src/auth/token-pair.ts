import type { Settings } from "../config";
import type { NewRefreshToken, UserRow } from "../db/schema";
import { randomBytes, sha256Hex, toBase64Url } from "../lib/encoding";
import { newId } from "../lib/ids";
import { toUserJson } from "../projections";
import { signAccessToken } from "./access-token";

const REFRESH_TOKEN_BYTES = 32; // 256 bits
const DAY_MS = 86_400_000;

/** Refresh tokens are high-entropy random strings, so a plain SHA-256 is enough to store them. */
export const hashRefreshToken = sha256Hex;

/** A fresh refresh token and the row that stores its hash (the token itself is never stored). */
export async function newRefreshToken(settings: Settings, userId: string, familyId: string, nowMs = Date.now()) {
  const token = toBase64Url(randomBytes(REFRESH_TOKEN_BYTES));
  const row: NewRefreshToken = {
    id: newId(nowMs),
    userId,
    familyId,
    tokenHash: await hashRefreshToken(token),
    createdAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + settings.REFRESH_TOKEN_TTL_DAYS * DAY_MS).toISOString(),
  };
  return { token, row };
}

/** The body of register, login and refresh responses. */
export async function tokenPairBody(settings: Settings, user: UserRow, refreshToken: string) {
  return {
    user: toUserJson(user),
    access_token: await signAccessToken(settings, user),
    refresh_token: refreshToken,
    token_type: "Bearer" as const,
    expires_in: settings.ACCESS_TOKEN_TTL_SECONDS,
  };
}
