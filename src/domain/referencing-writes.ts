import { isForeignKeyViolation } from "../db/errors";
import { findUserById } from "../db/users";
import { AuthenticationError } from "../errors";
import type { DomainContext } from "./context";
import type { UserActor } from "./vocabulary";

/**
 * Runs a write that points at the caller's account and at `target` (a favourite, a comment, a
 * follow). If one of them is gone, the write fails on its foreign key: a token outlives its
 * account for up to KV's propagation time elsewhere, so when the caller's account went it is a
 * 401, as for any request of a deleted account; otherwise the target went meanwhile (`targetGone`).
 */
export async function writeReferencing<T>(
  ctx: DomainContext,
  actor: UserActor,
  write: () => Promise<T>,
  targetGone: () => Error,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isForeignKeyViolation(error)) throw error;
    throw (await findUserById(ctx.db, actor.id)) ? targetGone() : new AuthenticationError("Account no longer exists");
  }
}
