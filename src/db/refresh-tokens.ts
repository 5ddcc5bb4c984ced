import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Db } from "./client";
import { type NewRefreshToken, type RefreshTokenRow, refreshTokens, users } from "./schema";

export const findRefreshTokenQuery = (db: Db, tokenHash: string) =>
  db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).limit(1);

export async function findRefreshTokenByHash(db: Db, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return (await findRefreshTokenQuery(db, tokenHash))[0];
}

/**
 * Marks a token as exchanged, only if nobody did so first. Of two concurrent refreshes with the
 * same token exactly one wins; the other is treated as reuse.
 */
export async function claimForRotation(db: Db, id: string, now: string): Promise<boolean> {
  const claimed = await db
    .update(refreshTokens)
    .set({ rotatedAt: now })
    .where(and(eq(refreshTokens.id, id), isNull(refreshTokens.rotatedAt), isNull(refreshTokens.revokedAt)))
    .returning({ id: refreshTokens.id })
    .get();
  return claimed !== undefined;
}

export function revokeFamily(db: Db, familyId: string, now: string) {
  return db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

/**
 * Ends every session of a user. With `onlyIf` (a condition on the user's row, evaluated when the
 * statement runs) it only does so if the change it accompanies in a batch took effect.
 */
export function revokeAllForUser(db: Db, userId: string, now: string, onlyIf?: SQL) {
  return db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(
      and(
        eq(refreshTokens.userId, userId),
        isNull(refreshTokens.revokedAt),
        onlyIf ? sql`exists (select 1 from ${users} where ${users.id} = ${userId} and ${onlyIf})` : undefined,
      ),
    );
}

/**
 * Stores the successor of a rotated token, unless any token of its family has been revoked in the
 * meantime (a replay, a password change, a deactivation). One statement, so a revocation is
 * either seen here or covers the new row: a revoked family can never gain a live token.
 */
export async function insertIntoLiveFamily(db: Db, row: NewRefreshToken): Promise<boolean> {
  const result = await db.run(sql`
    insert into ${refreshTokens} (id, user_id, family_id, token_hash, created_at, expires_at, authenticated_at)
    select ${row.id}, ${row.userId}, ${row.familyId}, ${row.tokenHash}, ${row.createdAt}, ${row.expiresAt}, ${row.authenticatedAt ?? null}
    where not exists (
      select 1 from ${refreshTokens} where family_id = ${row.familyId} and revoked_at is not null
    )`);
  return result.meta.changes === 1;
}
