import { and, eq, gt, inArray, isNull, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { OneTimeTokenPurpose } from "../domain/vocabulary";
import type { Db } from "./client";
import { type NewOneTimeToken, oneTimeTokens, refreshTokens, users } from "./schema";

/**
 * The token `tokenHash` of `purpose`, unused, unexpired at `now`, owned by an active user whose
 * email is still the address the link was mailed to. As SQL, so that every statement of a batch
 * re-checks it against the same committed state.
 */
function usable(tokenHash: string, purpose: OneTimeTokenPurpose, now: string): SQL {
  return and(
    eq(oneTimeTokens.tokenHash, tokenHash),
    eq(oneTimeTokens.purpose, purpose),
    isNull(oneTimeTokens.usedAt),
    gt(oneTimeTokens.expiresAt, now),
    sql`exists (select 1 from ${users} as owner where owner.id = ${oneTimeTokens.userId} and owner.is_active = 1 and owner.email = ${oneTimeTokens.email})`,
  ) as SQL;
}

// The `…Query` builders are exported so test/query-plans.test.ts can EXPLAIN exactly what runs.

/** The owner of a usable token (no row if none), also used as a subquery. */
export const usableTokenQuery = (db: Db, tokenHash: string, purpose: OneTimeTokenPurpose, now: string) =>
  db
    .select({ userId: oneTimeTokens.userId })
    .from(oneTimeTokens)
    .where(usable(tokenHash, purpose, now));

type OwnerSubquery = ReturnType<typeof usableTokenQuery>;

/** A user's tokens of one purpose (superseded when a new one is issued). */
export const supersededTokensQuery = (db: Db, userId: string, purpose: OneTimeTokenPurpose) =>
  db.delete(oneTimeTokens).where(and(eq(oneTimeTokens.userId, userId), eq(oneTimeTokens.purpose, purpose)));

/** Voids a user's mailed links of these purposes: for the batch of a password or email change. */
export const voidTokensQuery = (db: Db, userId: string, purposes: readonly OneTimeTokenPurpose[]) =>
  db.delete(oneTimeTokens).where(and(eq(oneTimeTokens.userId, userId), inArray(oneTimeTokens.purpose, [...purposes])));

/** Marks a usable token used; returns its owner. */
export const claimTokenQuery = (db: Db, tokenHash: string, purpose: OneTimeTokenPurpose, now: string) =>
  db
    .update(oneTimeTokens)
    .set({ usedAt: now })
    .where(usable(tokenHash, purpose, now))
    .returning({ userId: oneTimeTokens.userId });

/** Whether a token could be used now (a cheap read before costly work; the batch re-checks). */
export async function findUsableToken(
  db: Db,
  tokenHash: string,
  purpose: OneTimeTokenPurpose,
  now: string,
): Promise<{ userId: string } | undefined> {
  return (await usableTokenQuery(db, tokenHash, purpose, now).limit(1))[0];
}

/** A reset token used after `since`, with its owner's current password hash. */
export async function findUsedResetToken(db: Db, tokenHash: string, since: string) {
  const [row] = await db
    .select({ userId: users.id, passwordHash: users.passwordHash })
    .from(oneTimeTokens)
    .innerJoin(users, eq(users.id, oneTimeTokens.userId))
    .where(
      and(
        eq(oneTimeTokens.tokenHash, tokenHash),
        eq(oneTimeTokens.purpose, "password_reset"),
        gt(oneTimeTokens.usedAt, since),
      ),
    )
    .limit(1);
  return row;
}

/**
 * Stores a new token and deletes the user's earlier ones of the same purpose (asking again makes
 * the older link useless). One batch; of two concurrent requests, the later batch wins.
 */
export async function replaceToken(db: Db, row: NewOneTimeToken): Promise<void> {
  await db.batch([supersededTokensQuery(db, row.userId, row.purpose), db.insert(oneTimeTokens).values(row)]);
}

/**
 * Uses a token for `purpose` and applies `effects` (statements on the owner) in one batch. The
 * effects come first and are each conditional on the token being usable; the last statement marks
 * it used under the same condition. D1 runs a batch as one transaction, so either every statement
 * saw the token usable (and the effects happened exactly once) or none did: of two concurrent
 * uses, the second finds it used and changes nothing. Returns the owner, or undefined.
 */
async function useToken(
  db: Db,
  tokenHash: string,
  purpose: OneTimeTokenPurpose,
  now: string,
  effects: (owner: OwnerSubquery) => BatchItem<"sqlite">[],
): Promise<string | undefined> {
  const claim = claimTokenQuery(db, tokenHash, purpose, now);
  const [first, ...rest] = effects(usableTokenQuery(db, tokenHash, purpose, now));
  const results = first ? await db.batch([first, ...rest, claim]) : await db.batch([claim]);
  const claimed = results.at(-1) as { userId: string }[] | undefined;
  return claimed?.[0]?.userId;
}

/**
 * A password reset: the new hash (and a verified email: the link reached the mailbox, which
 * `usable` proves is still the account's address), every refresh token of the user revoked, and
 * the token used, all or nothing.
 */
export function resetPasswordWithToken(db: Db, tokenHash: string, passwordHash: string, now: string) {
  return useToken(db, tokenHash, "password_reset", now, (owner) => [
    db
      .update(users)
      .set({
        passwordHash,
        emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now})`,
        updatedAt: now,
      })
      .where(inArray(users.id, owner)),
    db
      .update(refreshTokens)
      .set({ revokedAt: now })
      .where(and(inArray(refreshTokens.userId, owner), isNull(refreshTokens.revokedAt))),
  ]);
}

/** Email verification: the user's email marked verified (first time only) and the token used. */
export function verifyEmailWithToken(db: Db, tokenHash: string, now: string) {
  return useToken(db, tokenHash, "email_verification", now, (owner) => [
    db
      .update(users)
      .set({ emailVerifiedAt: sql`coalesce(${users.emailVerifiedAt}, ${now})`, updatedAt: now })
      .where(inArray(users.id, owner)),
  ]);
}
