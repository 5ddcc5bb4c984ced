import type { Settings } from "../config";
import type { NewRefreshToken, UserRow } from "../db/schema";
import { newId } from "../lib/ids";
import { toUserJson } from "../projections";
import { signAccessToken } from "./access-token";
import { hashSecretToken, newSecretToken } from "./secret-token";

const DAY_MS = 86_400_000;

export const hashRefreshToken = hashSecretToken;

/**
 * A fresh refresh token and the row that stores its hash (the token itself is never stored).
 * `authenticatedAt` is when the family's sign-in checked the password; successors keep it.
 */
export async function newRefreshToken(
  settings: Settings,
  userId: string,
  familyId: string,
  authenticatedAt: string | null,
  nowMs = Date.now(),
) {
  const { token, hash } = await newSecretToken();
  const row: NewRefreshToken = {
    id: newId(nowMs),
    userId,
    familyId,
    tokenHash: hash,
    createdAt: new Date(nowMs).toISOString(),
    expiresAt: new Date(nowMs + settings.REFRESH_TOKEN_TTL_DAYS * DAY_MS).toISOString(),
    authenticatedAt,
  };
  return { token, row };
}

/**
 * When a stored sign-in checked the password, in milliseconds; a family from before this was
 * recorded counts as signed in long ago (0), so it proves nothing recent.
 */
export function authTimeOf(authenticatedAt: string | null): number {
  return authenticatedAt === null ? 0 : Date.parse(authenticatedAt);
}

/** What a token pair is made of (src/domain/sessions.ts: `SignedInWithRefresh`). */
type PairSource = { user: UserRow; authTimeMs: number; sessionVersion: number; refreshToken: string };

/** The body of register, login and refresh responses. */
export async function tokenPairBody(settings: Settings, signedIn: PairSource) {
  const { user, authTimeMs, sessionVersion, refreshToken } = signedIn;
  return {
    user: toUserJson(user),
    access_token: await signAccessToken(
      settings,
      { id: user.id, role: user.role, authTimeMs, sessionVersion },
      "access",
    ),
    refresh_token: refreshToken,
    token_type: "Bearer" as const,
    expires_in: settings.ACCESS_TOKEN_TTL_SECONDS,
  };
}
