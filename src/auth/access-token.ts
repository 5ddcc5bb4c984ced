import { errors, jwtVerify, SignJWT } from "jose";
import type { Settings } from "../config";
import { ROLES, type Role } from "../domain/vocabulary";
import { newId } from "../lib/ids";

/** RFC 9068 media type for access tokens; checked on verify so other JWTs cannot stand in. */
const ACCESS_TOKEN_TYP = "at+jwt";

export type AccessClaims = {
  userId: string;
  role: Role;
  /** Issue time in milliseconds, compared with the user's revocation marker. */
  issuedAtMs: number;
  /**
   * When the password was last checked for this sign-in (OpenID Connect's `auth_time`), in
   * milliseconds. A refresh keeps it: only a password login (or sign-up) moves it.
   */
  authTimeMs: number;
};

/** Who the token is for, and when that sign-in checked the password. */
export type TokenSubject = { id: string; role: Role; authTimeMs: number };

export async function signAccessToken(settings: Settings, subject: TokenSubject, nowMs = Date.now()): Promise<string> {
  // `iat` keeps milliseconds (RFC 7519 NumericDate may be fractional) so a token issued in the
  // same second as, but after, a revocation is not caught by it.
  const iat = nowMs / 1000;
  return new SignJWT({ role: subject.role, auth_time: Math.min(subject.authTimeMs, nowMs) / 1000 })
    .setProtectedHeader({ alg: "HS256", typ: ACCESS_TOKEN_TYP })
    .setSubject(subject.id)
    .setIssuer(settings.JWT_ISSUER)
    .setAudience(settings.JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(Math.floor(iat) + settings.ACCESS_TOKEN_TTL_SECONDS)
    .setJti(newId(nowMs))
    .sign(settings.jwtKey);
}

/** Why a token was refused; only ever logged, clients get one generic message. */
export type TokenRejection = "expired" | "invalid";

/** Verifies an access token; any failure is a rejection, "expired" told apart from the rest. */
export async function verifyAccessToken(
  settings: Settings,
  token: string,
): Promise<{ ok: true; claims: AccessClaims } | { ok: false; reason: TokenRejection }> {
  try {
    const { payload } = await jwtVerify(token, settings.jwtKey, {
      algorithms: ["HS256"],
      issuer: settings.JWT_ISSUER,
      audience: settings.JWT_AUDIENCE,
      typ: ACCESS_TOKEN_TYP,
      requiredClaims: ["exp", "iat", "sub", "jti", "auth_time"],
    });
    const role = ROLES.find((known) => known === payload.role);
    const authTime = payload.auth_time;
    if (
      !role ||
      typeof payload.sub !== "string" ||
      typeof payload.iat !== "number" ||
      typeof authTime !== "number" ||
      authTime > payload.iat
    ) {
      return { ok: false, reason: "invalid" };
    }
    return {
      ok: true,
      claims: { userId: payload.sub, role, issuedAtMs: payload.iat * 1000, authTimeMs: authTime * 1000 },
    };
  } catch (error) {
    // Every failure is a refusal (401), not only jose's own errors: jose throws a plain TypeError
    // when the key does not fit the header's algorithm (an RS256 header against our HMAC key,
    // were the algorithm pin ever dropped), and that must not become a 500.
    return { ok: false, reason: error instanceof errors.JWTExpired ? "expired" : "invalid" };
  }
}
