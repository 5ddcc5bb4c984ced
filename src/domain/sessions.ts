import { eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, verifyPassword } from "../auth/password";
import { authTimeOf, hashRefreshToken, newRefreshToken } from "../auth/token-pair";
import { isForeignKeyViolation, isUniqueViolation, takenUserField } from "../db/errors";
import { claimForRotation, findRefreshTokenByHash, insertIntoLiveFamily, revokeFamily } from "../db/refresh-tokens";
import { refreshTokens, type UserRow, users } from "../db/schema";
import { findUserByEmail, findUserById } from "../db/users";
import { AuthenticationError } from "../errors";
import { isoNow, newId } from "../lib/ids";
import { alreadyTaken } from "./accounts";
import type { DomainContext } from "./context";
import type { UserActor } from "./vocabulary";

/**
 * Signing up, signing in, refreshing and ending sessions: the rules both surfaces share. Everyone
 * registers with the role `user`; unknown emails cost a password check too, so timing does not
 * tell which exist. A token is good while the session version it was signed under is the user
 * record's (src/user-record/): ending the sessions moves the version on, at every location at once.
 */

const INVALID_CREDENTIALS = "Invalid email or password";
const INVALID_REFRESH_TOKEN = "Invalid or expired refresh token";

export type NewAccount = { email: string; name: string; password: string; username?: string };

/**
 * A signed-in user as the surfaces turn it into tokens: who, when the password was checked
 * (`auth_time`), and the session version to sign under.
 */
export type SignedIn = { user: UserRow; authTimeMs: number; sessionVersion: number };

/** `/v1` also hands out a refresh token (stored as a hash; rotated on every use). */
export type SignedInWithRefresh = SignedIn & { refreshToken: string };

/**
 * Creates the account. `alongside` are statements for the same batch (a `/v1` session's refresh
 * token), so the account never exists without them.
 */
async function createAccount(
  ctx: DomainContext,
  input: NewAccount,
  alongside: (userId: string, nowMs: number) => Promise<BatchItem<"sqlite">[]>,
): Promise<{ user: UserRow; nowMs: number }> {
  const { db } = ctx;
  const nowMs = Date.now();
  const now = isoNow(nowMs);
  const id = newId(nowMs);
  const passwordHash = await hashPassword(input.password);
  const row = {
    id,
    email: input.email,
    name: input.name,
    username: input.username ?? null,
    passwordHash,
    role: "user" as const,
    createdAt: now,
    updatedAt: now,
  };
  try {
    const [[user]] = await db.batch([db.insert(users).values(row).returning(), ...(await alongside(id, nowMs))]);
    if (!user) throw new Error("insert returned no user");
    return { user, nowMs };
  } catch (error) {
    const field = takenUserField(error);
    throw field ? alreadyTaken(field) : error;
  }
}

/** Signing up sets the password, so it counts as a password sign-in. A new account's version is 0. */
export async function register(ctx: DomainContext, input: NewAccount): Promise<SignedIn> {
  const { user, nowMs } = await createAccount(ctx, input, async () => []);
  return { user, authTimeMs: nowMs, sessionVersion: 0 };
}

/** `/v1` sign-up: the account and its first refresh-token family in one batch. */
export async function registerWithRefresh(ctx: DomainContext, input: NewAccount): Promise<SignedInWithRefresh> {
  let refreshToken = "";
  const { user, nowMs } = await createAccount(ctx, input, async (userId, at) => {
    const refresh = await newRefreshToken(ctx.settings, userId, newId(at), isoNow(at), at);
    refreshToken = refresh.token;
    return [ctx.db.insert(refreshTokens).values(refresh.row)];
  });
  return { user, authTimeMs: nowMs, sessionVersion: 0, refreshToken };
}

/** The account these credentials open; one 401 for every reason they do not. */
export async function logIn(ctx: DomainContext, email: string, secret: string): Promise<SignedIn> {
  const { db } = ctx;
  const user = await findUserByEmail(db, email);
  const passwordOk = await verifyPassword(secret, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !passwordOk || !user.isActive) throw new AuthenticationError(INVALID_CREDENTIALS);
  const authTimeMs = Date.now();
  if (needsRehash(user.passwordHash)) {
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(secret) })
      .where(eq(users.id, user.id));
  }
  const { sessionVersion } = await ctx.records.read(user.id);
  return { user, authTimeMs, sessionVersion };
}

/** `/v1` login: a new refresh-token family, started with the password check's time. */
export async function logInWithRefresh(
  ctx: DomainContext,
  email: string,
  secret: string,
): Promise<SignedInWithRefresh> {
  const signedIn = await logIn(ctx, email, secret);
  const { authTimeMs } = signedIn;
  const refresh = await newRefreshToken(ctx.settings, signedIn.user.id, newId(authTimeMs), isoNow(authTimeMs));
  await ctx.db.insert(refreshTokens).values(refresh.row);
  return { ...signedIn, refreshToken: refresh.token };
}

/**
 * Rotates a refresh token. Presenting one that was already exchanged is reuse: its whole family
 * ends. The new access token keeps the family's sign-in time (a refresh proves the refresh token,
 * not the password) and is signed under the session version read before the new refresh token is
 * stored: ending the sessions either revoked the family first (the insert fails) or moves the
 * version on after it (the token fails).
 */
export async function refreshSession(ctx: DomainContext, presented: string): Promise<SignedInWithRefresh> {
  const { db, settings } = ctx;
  const now = isoNow();
  const stored = await findRefreshTokenByHash(db, await hashRefreshToken(presented));
  if (!stored || stored.revokedAt !== null || stored.expiresAt <= now) {
    throw new AuthenticationError(INVALID_REFRESH_TOKEN);
  }
  if (stored.rotatedAt !== null || !(await claimForRotation(db, stored.id, now))) {
    await revokeFamily(db, stored.familyId, now);
    throw new AuthenticationError(INVALID_REFRESH_TOKEN);
  }
  const user = await findUserById(db, stored.userId);
  if (!user?.isActive) {
    await revokeFamily(db, stored.familyId, now);
    throw new AuthenticationError(INVALID_REFRESH_TOKEN);
  }
  const { sessionVersion } = await ctx.records.read(user.id);
  const refresh = await newRefreshToken(settings, user.id, stored.familyId, stored.authenticatedAt);
  if (!(await insertIntoLiveFamily(db, refresh.row))) {
    await revokeFamily(db, stored.familyId, now);
    throw new AuthenticationError(INVALID_REFRESH_TOKEN);
  }
  return { user, authTimeMs: authTimeOf(stored.authenticatedAt), sessionVersion, refreshToken: refresh.token };
}

/** Ends the refresh-token family of `presented`, if it is the caller's; the same answer otherwise. */
export async function logOut(ctx: DomainContext, actor: UserActor, presented: string): Promise<void> {
  const stored = await findRefreshTokenByHash(ctx.db, await hashRefreshToken(presented));
  if (stored && stored.userId === actor.id) await revokeFamily(ctx.db, stored.familyId, isoNow());
}

/** A write that failed this way committed nothing (a constraint refused it). */
const committedNothing = (error: unknown) => isUniqueViolation(error) || isForeignKeyViolation(error);

/**
 * Runs a write after which the user's sessions must end, then ends them (`mustEnd` decides from
 * its result). Also when the write failed in a way that may have committed (a lost
 * acknowledgement, a timeout): a revocation that may be owed is made, then the error goes on.
 * Returns the result and the session version now in force (undefined when none ended).
 */
export async function thenEndSessions<T>(
  ctx: DomainContext,
  userId: string,
  write: () => Promise<T>,
  mustEnd: (value: T) => boolean = () => true,
): Promise<{ value: T; sessionVersion: number | undefined }> {
  let value: T;
  try {
    value = await write();
  } catch (error) {
    if (!committedNothing(error)) await ctx.records.endSessions(userId);
    throw error;
  }
  return { value, sessionVersion: mustEnd(value) ? await ctx.records.endSessions(userId) : undefined };
}
