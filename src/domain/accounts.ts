import { sql } from "drizzle-orm";
import { hashPassword, verifyPassword } from "../auth/password";
import {
  retiredByAuthorChange,
  retiredByFavoritesGone,
  type WriteResult,
  writeThenRetire,
} from "../cache/invalidation";
import { favoritedPostIdsQuery } from "../db/articles";
import { takenUserField } from "../db/errors";
import { voidTokensQuery } from "../db/one-time-tokens";
import { revokeAllForUser } from "../db/refresh-tokens";
import { type UserRow, users } from "../db/schema";
import {
  deleteUserGuarded,
  findUserById,
  type GuardedResult,
  listUsers,
  type UserChanges,
  type UserFilter,
  updateUserGuarded,
} from "../db/users";
import { AuthenticationError, ConflictError, NotFoundError } from "../errors";
import type { Cursor } from "../lib/cursor";
import { isoNow } from "../lib/ids";
import { type AccountDeps, notifyEmailChanged } from "./account-recovery";
import type { DomainContext } from "./context";
import { authorize, can } from "./permissions";
import { thenEndSessions } from "./sessions";
import { type Actor, ONE_TIME_TOKEN_PURPOSES, type OneTimeTokenPurpose, type Role, type UserActor } from "./vocabulary";

/**
 * Accounts: the rules every surface shares when a user changes their own account or an admin
 * manages one. A change that must end tokens commits with the end of the refresh-token families
 * in one batch, then moves the user record's session version on (after the commit, so a
 * concurrent refresh's token is signed under the old one; also when the write's outcome is
 * unknown), and again when a request is repeated. A change to what others see of an author
 * retires the author's cached posts and lists.
 */

const LAST_ADMIN = "The last active admin cannot be demoted, deactivated or deleted";

function notLastAdmin<T>(
  result: GuardedResult<T>,
): asserts result is Exclude<GuardedResult<T>, { kind: "last-admin" }> {
  if (result.kind === "last-admin") throw new ConflictError(LAST_ADMIN, { reason: "last_admin" });
}

/** What readers of an author's posts see of the author, on either surface. */
type PublicFace = Pick<UserRow, "name" | "username" | "bio" | "image">;
const samePublicFace = (a: PublicFace, b: PublicFace) =>
  a.name === b.name && a.username === b.username && a.bio === b.bio && a.image === b.image;

/** The author's cached posts and lists, when what readers see of them changed or they went away. */
function retiredByUserWrite(id: string, before?: PublicFace) {
  return (result: WriteResult<GuardedResult<PublicFace>>) => {
    const changed =
      result.kind === "unknown" ||
      (result.value.kind === "ok" && (before === undefined || !samePublicFace(result.value.value, before)));
    return changed ? retiredByAuthorChange(id) : [];
  };
}

/** A unique email or username another account already holds. */
export function alreadyTaken(field: "email" | "username"): ConflictError {
  return new ConflictError(`An account with this ${field} already exists`, { field });
}

export async function ownAccount(ctx: DomainContext, actor: UserActor): Promise<UserRow> {
  const user = await findUserById(ctx.db, actor.id);
  if (!user) throw new AuthenticationError("Account no longer exists");
  return user;
}

export type OwnAccountChanges = {
  name?: string;
  email?: string;
  username?: string;
  bio?: string | null;
  image?: string | null;
  password?: string;
  currentPassword?: string;
};

/**
 * How a new password (or email) is proven. `/v1` asks for the current password, and every check
 * of it costs the caller's password-attempt budget (`throttle`, as at login). The RealWorld spec
 * has no field for it, so there a recent password sign-in is the proof: the token's `auth_time`
 * (kept unchanged through refreshes) within `RECENT_SIGN_IN_MS`, so neither a lifted access token
 * nor a refresh token alone can take the account over.
 */
export type PasswordProof =
  | { kind: "current-password"; throttle: (email: string) => Promise<void> }
  | { kind: "recent-sign-in"; signedInAtMs: number };

const RECENT_SIGN_IN_MS = 5 * 60 * 1000;

/** The account after the change, and the session version in force if its sessions ended. */
export type ChangedAccount = { user: UserRow; sessionVersion?: number };

/** The request's token was issued before the account's last password or email change. */
function predatesCredentialChange(user: UserRow, tokenSessionVersion: number): boolean {
  return user.credentialsChangedInVersion !== null && tokenSessionVersion <= user.credentialsChangedInVersion;
}

async function assertProven(user: UserRow, body: OwnAccountChanges, proof: PasswordProof): Promise<void> {
  if (proof.kind === "recent-sign-in") {
    if (Date.now() - proof.signedInAtMs > RECENT_SIGN_IN_MS) {
      throw new AuthenticationError("Sign in again to change your password or email");
    }
    return;
  }
  await proof.throttle(user.email);
  if (!(await verifyPassword(body.currentPassword ?? "", user.passwordHash))) {
    throw new AuthenticationError("Current password is incorrect");
  }
}

/**
 * A new password or email ends every session, the caller's included, and voids the mailed links
 * (a reset link after either, a verification link after an email change) in the same batch. A
 * new email is unverified until confirmed again, and the old address is told of the change.
 */
export async function changeOwnAccount(
  deps: AccountDeps,
  actor: UserActor,
  tokenSessionVersion: number,
  body: OwnAccountChanges,
  proof: PasswordProof,
): Promise<ChangedAccount> {
  const { db } = deps;
  const user = await ownAccount(deps, actor);
  // This token should be dead already: the change that ended it could not write the marker
  // (a 503 told the client to repeat the request). Writing it now completes that change.
  if (predatesCredentialChange(user, tokenSessionVersion)) {
    await deps.records.endSessions(actor.id);
    throw new AuthenticationError("Access token has been revoked");
  }
  const newEmail = body.email !== undefined && body.email !== user.email ? body.email : undefined;
  const sensitive = body.password !== undefined || newEmail !== undefined;
  if (sensitive) await assertProven(user, body, proof);
  const now = isoNow();
  const changes: UserChanges = {};
  if (body.name !== undefined) changes.name = body.name;
  if (body.username !== undefined) changes.username = body.username;
  if (body.bio !== undefined) changes.bio = body.bio;
  if (body.image !== undefined) changes.image = body.image;
  if (newEmail !== undefined) {
    changes.email = newEmail;
    changes.emailVerifiedAt = null;
  }
  if (body.password !== undefined) changes.passwordHash = await hashPassword(body.password);
  if (sensitive) changes.credentialsChangedInVersion = tokenSessionVersion;
  const voided: OneTimeTokenPurpose[] = newEmail !== undefined ? [...ONE_TIME_TOKEN_PURPOSES] : ["password_reset"];
  const endSessions = sensitive ? [revokeAllForUser(db, actor.id, now), voidTokensQuery(db, actor.id, voided)] : [];
  const write = () =>
    writeThenRetire(
      deps.cache,
      () => updateUserGuarded(db, actor.id, changes, now, endSessions),
      retiredByUserWrite(actor.id, user),
    );
  const { value: result, sessionVersion } = await thenEndSessions(
    deps,
    actor.id,
    write,
    (outcome) => sensitive && outcome.kind === "ok",
  ).catch((error: unknown) => {
    const field = takenUserField(error);
    throw field ? alreadyTaken(field) : error;
  });
  if (result.kind !== "ok") throw new AuthenticationError("Account no longer exists");
  if (newEmail !== undefined) notifyEmailChanged(deps, user, newEmail);
  return sessionVersion === undefined ? { user: result.value } : { user: result.value, sessionVersion };
}

/**
 * Most favourites a deletion retires one by one. Its favourites go with the account (cascade), so
 * the articles it favourited show one fewer; past this many, their cached entries keep the old
 * count until they expire (POST_CACHE_TTL_SECONDS), as the README says.
 */
const DELETION_RETIRES_FAVORITES_MAX = 100;

/** What deleting an account retires: its author entries and lists, and the posts it favourited. */
async function retiredByAccountDeletion(ctx: DomainContext, id: string) {
  const favorited = await favoritedPostIdsQuery(ctx.db, id, DELETION_RETIRES_FAVORITES_MAX);
  const asAuthor = retiredByUserWrite(id);
  return (result: WriteResult<GuardedResult<PublicFace>>) => {
    const targets = asAuthor(result);
    return targets.length === 0 ? targets : [...targets, ...retiredByFavoritesGone(favorited.map((f) => f.postId))];
  };
}

/** Deletes the caller's account and its posts (cascade). */
export async function deleteOwnAccount(ctx: DomainContext, actor: UserActor): Promise<void> {
  const retired = await retiredByAccountDeletion(ctx, actor.id);
  // Also when the account is already gone: this may repeat a deletion whose revocation failed.
  const { value: result } = await thenEndSessions(
    ctx,
    actor.id,
    () => writeThenRetire(ctx.cache, () => deleteUserGuarded(ctx.db, actor.id), retired),
    (outcome) => outcome.kind !== "last-admin",
  );
  notLastAdmin(result);
  if (result.kind === "not-found") throw new AuthenticationError("Account no longer exists");
}

export type AdminChanges = { name?: string; role?: Role; isActive?: boolean };

/**
 * An admin changes a user. Tokens carry the role, so naming `role` or `isActive` retires the
 * user's access tokens, even when nothing changes: repeating a request whose revocation failed
 * completes it. Deactivation ends the sessions in the same batch, if the guarded update happened.
 */
export async function manageUser(
  ctx: DomainContext,
  actor: UserActor,
  id: string,
  body: AdminChanges,
): Promise<UserRow> {
  authorize(actor, "user:manage");
  const { db } = ctx;
  const changes: UserChanges = {};
  if (body.name !== undefined) changes.name = body.name;
  if (body.role !== undefined) changes.role = body.role;
  if (body.isActive !== undefined) changes.isActive = body.isActive;
  const before = await findUserById(db, id);
  if (!before) throw NotFoundError.resource("user", id);
  const now = isoNow();
  const endSessions = body.isActive === false ? [revokeAllForUser(db, id, now, sql`${users.isActive} = 0`)] : [];
  const { value: result } = await thenEndSessions(
    ctx,
    id,
    () =>
      writeThenRetire(
        ctx.cache,
        () => updateUserGuarded(db, id, changes, now, endSessions),
        retiredByUserWrite(id, before),
      ),
    (outcome) => outcome.kind === "ok" && (body.role !== undefined || body.isActive !== undefined),
  );
  if (result.kind === "not-found") throw NotFoundError.resource("user", id);
  notLastAdmin(result);
  return result.value;
}

/** An admin deletes a user and its posts. */
export async function removeUser(ctx: DomainContext, actor: UserActor, id: string): Promise<void> {
  authorize(actor, "user:manage");
  const retired = await retiredByAccountDeletion(ctx, id);
  // Also when the user is already gone: this may repeat a deletion whose revocation failed.
  const { value: result } = await thenEndSessions(
    ctx,
    id,
    () => writeThenRetire(ctx.cache, () => deleteUserGuarded(ctx.db, id), retired),
    (outcome) => outcome.kind !== "last-admin",
  );
  notLastAdmin(result);
  if (result.kind === "not-found") throw NotFoundError.resource("user", id);
}

/** A user as the actor may see it: admins the whole account, everyone else the public profile. */
export async function viewUser(
  ctx: DomainContext,
  actor: Actor,
  id: string,
): Promise<{ kind: "full"; user: UserRow } | { kind: "profile"; user: UserRow }> {
  const user = await findUserById(ctx.db, id);
  if (!user) throw NotFoundError.resource("user", id);
  return { kind: can(actor, "user:read:full") ? "full" : "profile", user };
}

/** Admins only: a page of users (one more than `limit`, to tell whether more follow). */
export function listAccounts(
  ctx: DomainContext,
  actor: UserActor,
  filter: UserFilter,
  cursor: Cursor | undefined,
  limit: number,
): Promise<UserRow[]> {
  authorize(actor, "user:list");
  return listUsers(ctx.db, filter, cursor, limit);
}
