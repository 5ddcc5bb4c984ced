import { and, desc, eq, gte, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Role } from "../domain/vocabulary";
import type { Cursor } from "../lib/cursor";
import { pruneTagsOfAuthorQuery } from "./articles";
import type { Db } from "./client";
import { afterCursor } from "./keyset";
import { type UserRow, users } from "./schema";

// The `…Query` builders are exported so test/query-plans.test.ts can EXPLAIN exactly what runs.
export const findUserByIdQuery = (db: Db, id: string) => db.select().from(users).where(eq(users.id, id)).limit(1);
export const findUserByEmailQuery = (db: Db, email: string) =>
  db.select().from(users).where(eq(users.email, email)).limit(1);

export async function findUserById(db: Db, id: string): Promise<UserRow | undefined> {
  return (await findUserByIdQuery(db, id))[0];
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return (await findUserByEmailQuery(db, email))[0];
}

/**
 * True unless the row is the only active admin and the change would remove it from that set.
 * Evaluated inside the UPDATE/DELETE itself, so two admins demoting each other at once cannot
 * both succeed.
 */
function keepsAnActiveAdmin(id: string, next: { role: Role | null; isActive: boolean | null }): SQL {
  const stillActiveAdmin = sql`coalesce(${next.role}, ${users.role}) = 'admin' and coalesce(${next.isActive === null ? null : Number(next.isActive)}, ${users.isActive}) = 1`;
  const isActiveAdmin = sql`${users.role} = 'admin' and ${users.isActive} = 1`;
  const otherActiveAdmin = sql`exists (select 1 from ${users} as other where other.role = 'admin' and other.is_active = 1 and other.id <> ${id})`;
  return sql`(not (${isActiveAdmin}) or (${stillActiveAdmin}) or ${otherActiveAdmin})`;
}

export type UserChanges = Partial<
  Pick<
    UserRow,
    | "name"
    | "email"
    | "emailVerifiedAt"
    | "credentialsChangedInVersion"
    | "username"
    | "bio"
    | "image"
    | "role"
    | "isActive"
    | "passwordHash"
  >
>;

export type GuardedResult<T> = { kind: "ok"; value: T } | { kind: "not-found" } | { kind: "last-admin" };

/**
 * Updates a user unless that would leave no active admin. `alongside` are statements that commit
 * in the same batch (ending the user's sessions), so the change and its consequences are atomic.
 */
export async function updateUserGuarded(
  db: Db,
  id: string,
  changes: UserChanges,
  updatedAt: string,
  alongside: BatchItem<"sqlite">[] = [],
): Promise<GuardedResult<UserRow>> {
  const update = db
    .update(users)
    .set({ ...changes, updatedAt })
    .where(
      and(eq(users.id, id), keepsAnActiveAdmin(id, { role: changes.role ?? null, isActive: changes.isActive ?? null })),
    )
    .returning();
  const [[updated]] = await db.batch([update, ...alongside]);
  if (updated) return { kind: "ok", value: updated };
  return (await findUserById(db, id)) ? { kind: "last-admin" } : { kind: "not-found" };
}

/**
 * Deletes a user (posts, tokens and idempotency records cascade) unless it is the last admin; the
 * tags only its posts had go in the same batch, under the same guard.
 */
export async function deleteUserGuarded(db: Db, id: string): Promise<GuardedResult<UserRow>> {
  const guard = keepsAnActiveAdmin(id, { role: "user", isActive: false });
  const [, [deleted]] = await db.batch([
    pruneTagsOfAuthorQuery(db, id, guard),
    db
      .delete(users)
      .where(and(eq(users.id, id), guard))
      .returning(),
  ]);
  if (deleted) return { kind: "ok", value: deleted };
  return (await findUserById(db, id)) ? { kind: "last-admin" } : { kind: "not-found" };
}

export type UserFilter = { role?: Role; isActive?: boolean; emailPrefix?: string };

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/**
 * Newest first, keyset-paginated; fetches one extra row to know whether a next page exists.
 * Returns the query (await it to run it).
 */
export function listUsers(db: Db, filter: UserFilter, cursor: Cursor | undefined, limit: number) {
  const conditions: SQL[] = [];
  if (filter.role) conditions.push(eq(users.role, filter.role));
  if (filter.isActive !== undefined) conditions.push(eq(users.isActive, filter.isActive));
  if (filter.emailPrefix) {
    // The range lets the unique email index do the work; LIKE keeps it exact.
    conditions.push(gte(users.email, filter.emailPrefix));
    conditions.push(sql`${users.email} like ${`${escapeLike(filter.emailPrefix)}%`} escape '\\'`);
  }
  if (cursor) conditions.push(afterCursor(users.createdAt, users.id, cursor));
  return db
    .select()
    .from(users)
    .where(and(...conditions))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(limit + 1);
}
