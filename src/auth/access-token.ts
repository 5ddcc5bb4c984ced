import { errors, jwtVerify, SignJWT } from "jose";
import type { Settings } from "../config";
import { ROLES, type Role } from "../domain/vocabulary";
import { newId } from "../lib/ids";

/** RFC 9068 media type for access tokens; checked on verify so other JWTs cannot stand in. */
const ACCESS_TOKEN_TYP = "at+jwt";

export type AccessClaims = {
  userId: string;
  role: Role;
  /** Issue time in milliseconds. */
  issuedAtMs: number;
  /**
   * When the password was last checked for this sign-in (OpenID Connect's `auth_time`), in
   * milliseconds. A refresh keeps it: only a password login (or sign-up) moves it.
   */
  authTimeMs: number;
  /** The user's session version it was signed under (`sv`): below the user record's, it is revoked. */
  sessionVersion: number;
};

/** Who the token is for, when that sign-in checked the password, and under which session version. */
export type TokenSubject = { id: string; role: Role; authTimeMs: number; sessionVersion: number };

/**
 * How long a token lives: `/v1` access tokens are short and come with refresh rotation; `/api`
 * ones live as long as RealWorld frontends keep them (they have no refresh flow). Both are revoked
 * at once through the user record (src/user-record/).
 */
export type TokenLifetime = "access" | "conduit";

const lifetimeSeconds = (settings: Settings, lifetime: TokenLifetime) =>
  lifetime === "access" ? settings.ACCESS_TOKEN_TTL_SECONDS : settings.CONDUIT_TOKEN_TTL_DAYS * 86_400;

export async function signAccessToken(
  settings: Settings,
  subject: TokenSubject,
  lifetime: TokenLifetime,
  nowMs = Date.now(),
): Promise<string> {
  // `iat` keeps milliseconds (RFC 7519 NumericDate may be fractional).
  const iat = nowMs / 1000;
  return new SignJWT({
    role: subject.role,
    auth_time: Math.min(subject.authTimeMs, nowMs) / 1000,
    sv: subject.sessionVersion,
  })
    .setProtectedHeader({ alg: "HS256", typ: ACCESS_TOKEN_TYP })
    .setSubject(subject.id)
    .setIssuer(settings.JWT_ISSUER)
    .setAudience(settings.JWT_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(Math.floor(iat) + lifetimeSeconds(settings, lifetime))
    .setJti(newId(nowMs))
    .sign(settings.jwtKey);
}

/** Why a token was refused; only ever logged, clients get one generic message. */
export type TokenRejection = "expired" | "invalid";

const isVersion = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

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
      requiredClaims: ["exp", "iat", "sub", "jti", "auth_time", "sv"],
    });
    const role = ROLES.find((known) => known === payload.role);
    const { auth_time: authTime, sv } = payload;
    if (
      !role ||
      typeof payload.sub !== "string" ||
      typeof payload.iat !== "number" ||
      typeof authTime !== "number" ||
      authTime > payload.iat ||
      !isVersion(sv)
    ) {
      return { ok: false, reason: "invalid" };
    }
    const claims = {
      userId: payload.sub,
      role,
      issuedAtMs: payload.iat * 1000,
      authTimeMs: authTime * 1000,
      sessionVersion: sv,
    };
    return { ok: true, claims };
  } catch (error) {
    // Every failure is a refusal (401), not only jose's own errors: jose throws a plain TypeError
    // when the key does not fit the header's algorithm (an RS256 header against our HMAC key,
    // were the algorithm pin ever dropped), and that must not become a 500.
    return { ok: false, reason: error instanceof errors.JWTExpired ? "expired" : "invalid" };
  }
}
