import type { Settings } from "../config";
import type { NewRefreshToken, UserRow } from "../db/schema";
import { newId } from "../lib/ids";
import { toUserJson } from "../projections";
import { signAccessToken } from "./access-token";
import { hashSecretToken, newSecretToken } from "./secret-token";

const DAY_MS = 86_400_000;

export const hashRefreshToken = hashSecretToken;

/** A fresh refresh token and the row that stores its hash (the token itself is never stored). */
export async function newRefreshToken(settings: Settings, userId: string, familyId: string, nowMs = Date.now()) {
  const { token, hash } = await newSecretToken();
  const row: NewRefreshToken = {
    id: newId(nowMs),
    userId,
    familyId,
    tokenHash: hash,
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
