import { and, eq, gt, lte } from "drizzle-orm";
import type { Db } from "./client";
import { idempotencyKeys } from "./schema";

/** How long a stored response answers a repeated `Idempotency-Key`. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export type StoredResponse = { requestHash: string; status: number; body: string };

export const findIdempotencyQuery = (db: Db, userId: string, key: string, nowMs: number) =>
  db
    .select()
    .from(idempotencyKeys)
    .where(
      and(
        eq(idempotencyKeys.userId, userId),
        eq(idempotencyKeys.key, key),
        gt(idempotencyKeys.createdAt, new Date(nowMs - IDEMPOTENCY_WINDOW_MS).toISOString()),
      ),
    )
    .limit(1);

export async function findStoredResponse(
  db: Db,
  userId: string,
  key: string,
  nowMs: number,
): Promise<StoredResponse | undefined> {
  const [row] = await findIdempotencyQuery(db, userId, key, nowMs);
  return row && { requestHash: row.requestHash, status: row.responseStatus, body: row.responseBody };
}

/**
 * Statements that record a response, for the same `db.batch` as the write it describes. An
 * expired record under the same key is cleared first; a live one makes the insert (and so the
 * whole batch) fail on the primary key, so two racing requests can never both write.
 */
export function recordResponseStatements(db: Db, userId: string, key: string, response: StoredResponse, nowMs: number) {
  const expiredBefore = new Date(nowMs - IDEMPOTENCY_WINDOW_MS).toISOString();
  return [
    db
      .delete(idempotencyKeys)
      .where(
        and(
          eq(idempotencyKeys.userId, userId),
          eq(idempotencyKeys.key, key),
          lte(idempotencyKeys.createdAt, expiredBefore),
        ),
      ),
    db.insert(idempotencyKeys).values({
      userId,
      key,
      requestHash: response.requestHash,
      responseStatus: response.status,
      responseBody: response.body,
      createdAt: new Date(nowMs).toISOString(),
    }),
  ] as const;
}
