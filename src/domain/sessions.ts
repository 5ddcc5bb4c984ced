import { eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, verifyPassword } from "../auth/password";
import { takenUserField } from "../db/errors";
import { type UserRow, users } from "../db/schema";
import { findUserByEmail } from "../db/users";
import { AuthenticationError } from "../errors";
import { isoNow, newId } from "../lib/ids";
import { alreadyTaken } from "./accounts";
import type { DomainContext } from "./context";

/**
 * Signing up and signing in: the rules both surfaces share. Everyone registers with the role
 * `user`; unknown emails cost a password check too, so timing does not tell which exist.
 */

const INVALID_CREDENTIALS = "Invalid email or password";

export type NewAccount = { email: string; name: string; password: string; username?: string };

/**
 * Creates the account. `alongside` are statements for the same batch (a `/v1` session's refresh
 * token), so the account never exists without them.
 */
export async function register(
  ctx: DomainContext,
  input: NewAccount,
  alongside: (userId: string, nowMs: number) => Promise<BatchItem<"sqlite">[]> = async () => [],
): Promise<UserRow> {
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
    return user;
  } catch (error) {
    const field = takenUserField(error);
    throw field ? alreadyTaken(field) : error;
  }
}

/** The account these credentials open; one 401 for every reason they do not. */
export async function logIn(ctx: DomainContext, email: string, secret: string): Promise<UserRow> {
  const { db } = ctx;
  const user = await findUserByEmail(db, email);
  const passwordOk = await verifyPassword(secret, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!user || !passwordOk || !user.isActive) throw new AuthenticationError(INVALID_CREDENTIALS);
  if (needsRehash(user.passwordHash)) {
    await db
      .update(users)
      .set({ passwordHash: await hashPassword(secret) })
      .where(eq(users.id, user.id));
  }
  return user;
}
