import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "./client";
import { type RefreshTokenRow, refreshTokens } from "./schema";

export function findRefreshTokenByHash(db: Db, tokenHash: string): Promise<RefreshTokenRow | undefined> {
  return db.select().from(refreshTokens).where(eq(refreshTokens.tokenHash, tokenHash)).get();
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

export function revokeAllForUser(db: Db, userId: string, now: string) {
  return db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}
