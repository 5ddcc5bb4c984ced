import { hashPassword, verifyPassword } from "../auth/password";
import { hashSecretToken, newSecretToken } from "../auth/secret-token";
import {
  findUsableToken,
  findUsedResetToken,
  replaceToken,
  resetPasswordWithToken,
  verifyEmailWithToken,
} from "../db/one-time-tokens";
import type { UserRow } from "../db/schema";
import { findUserByEmail } from "../db/users";
import { ValidationError } from "../errors";
import { isoNow } from "../lib/ids";
import { loggableError, logWarning } from "../lib/log";
import { composeAccountMail, composeEmailChangedNotice, type Mailer, sendAccountMail } from "../mail/account-mail";
import type { DomainContext } from "./context";
import { thenEndSessions } from "./sessions";
import type { OneTimeTokenPurpose } from "./vocabulary";

/**
 * Account recovery and email verification (API.md §6b): one-time tokens, the enumeration-safe
 * reset request, and the rule that REQUIRE_VERIFIED_EMAIL puts on posting.
 */

/** How long a mailed link works. */
export const ONE_TIME_TOKEN_TTL_SECONDS: Record<OneTimeTokenPurpose, number> = {
  password_reset: 30 * 60,
  email_verification: 24 * 60 * 60,
};

/** What the flows need beyond the domain context: the mail binding and the request's bookkeeping. */
export type AccountDeps = DomainContext & {
  mailer: Mailer;
  /** Work that must not delay the response (`executionCtx.waitUntil`). */
  waitUntil: (promise: Promise<unknown>) => void;
  requestId: string;
};

/**
 * Stores the token for the user, bound to the address it is mailed to; earlier tokens of its
 * purpose stop working.
 */
async function storeToken(
  deps: AccountDeps,
  user: Pick<UserRow, "id" | "email">,
  purpose: OneTimeTokenPurpose,
  tokenHash: string,
) {
  const nowMs = Date.now();
  await replaceToken(deps.db, {
    tokenHash,
    userId: user.id,
    email: user.email,
    purpose,
    createdAt: isoNow(nowMs),
    expiresAt: isoNow(nowMs + ONE_TIME_TOKEN_TTL_SECONDS[purpose] * 1000),
  });
}

/** Mails the token's link to the user; a failure is logged and otherwise ignored. */
function mailToken(deps: AccountDeps, user: UserRow, purpose: OneTimeTokenPurpose, token: string) {
  const mail = composeAccountMail(deps.settings, purpose, user.email, token);
  return sendAccountMail(deps.mailer, mail, { purpose, userId: user.id, requestId: deps.requestId });
}

/**
 * `POST /v1/auth/password-reset`. The caller's answer must not tell whether `email` has an
 * account, by content or by time: the work before the response is the same for every address (a
 * token is made and hashed), and everything that depends on the account (the lookup, storing the
 * token, the mail) runs after the response. `mayMail` is false when the per-email limit is used
 * up: the answer stays the same, nothing is sent.
 */
export async function requestPasswordReset(deps: AccountDeps, email: string, mayMail: boolean): Promise<void> {
  const fresh = await newSecretToken();
  if (!mayMail) return;
  deps.waitUntil(
    (async () => {
      try {
        const user = await findUserByEmail(deps.db, email);
        // Unknown and inactive accounts get nothing.
        if (!user?.isActive) return;
        await storeToken(deps, user, "password_reset", fresh.hash);
        await mailToken(deps, user, "password_reset", fresh.token);
      } catch (error) {
        logWarning("password reset not delivered", { request_id: deps.requestId, error: loggableError(error) });
      }
    })(),
  );
}

/**
 * `POST /v1/auth/email-verification`: mails a verification link to the caller, unless the email
 * is already verified. The token is stored before the answer (a failure is the caller's 503); the
 * mail goes out after it.
 */
export async function requestEmailVerification(deps: AccountDeps, user: UserRow): Promise<void> {
  if (user.emailVerifiedAt !== null) return;
  const { token, hash } = await newSecretToken();
  await storeToken(deps, user, "email_verification", hash);
  deps.waitUntil(mailToken(deps, user, "email_verification", token));
}

/**
 * Tells the old address that the account's email changed, without a link (undoing the change is
 * a password reset away, which goes to the new address): whoever took a session over cannot move
 * the account unnoticed. Sent after the response; a failure is logged.
 */
export function notifyEmailChanged(deps: AccountDeps, user: Pick<UserRow, "id" | "email">, newEmail: string): void {
  const mail = composeEmailChangedNotice(deps.settings, user.email, newEmail);
  deps.waitUntil(
    sendAccountMail(deps.mailer, mail, { purpose: "email_changed", userId: user.id, requestId: deps.requestId }),
  );
}

/** The one answer for a wrong, used, expired, superseded or other-purpose token. */
function invalidToken(): ValidationError {
  return new ValidationError("Invalid body: token", [
    { path: "token", message: "is invalid, used, expired or replaced by a newer link" },
  ]);
}

/**
 * `POST /v1/auth/password-reset/confirm`: sets the new password and ends every session (refresh
 * tokens in the same batch, access tokens by the user record's session version, moved after it
 * commits, or when its outcome is unknown).
 */
export async function confirmPasswordReset(deps: AccountDeps, token: string, password: string): Promise<void> {
  const ttlSeconds = deps.settings.ACCESS_TOKEN_TTL_SECONDS;
  const tokenHash = await hashSecretToken(token);
  // A cheap read first, so a wrong token costs no password hashing; the batch re-checks.
  const usable = await findUsableToken(deps.db, tokenHash, "password_reset", isoNow());
  if (!usable) {
    // The repeat of a confirm that answered 503 because the sessions could not be ended: the
    // token was used within an access token's lifetime and the password sent is the one it set.
    // Ending them now completes that reset; anything else is a bad token.
    const used = await findUsedResetToken(deps.db, tokenHash, isoNow(Date.now() - ttlSeconds * 1000));
    if (!used || !(await verifyPassword(password, used.passwordHash))) throw invalidToken();
    await deps.records.endSessions(used.userId);
    return;
  }
  const passwordHash = await hashPassword(password);
  const { value: userId } = await thenEndSessions(
    deps,
    usable.userId,
    () => resetPasswordWithToken(deps.db, tokenHash, passwordHash, isoNow()),
    (owner) => owner !== undefined,
  );
  if (!userId) throw invalidToken();
}

/** `POST /v1/auth/email-verification/confirm`. */
export async function confirmEmailVerification(deps: AccountDeps, token: string): Promise<void> {
  const userId = await verifyEmailWithToken(deps.db, await hashSecretToken(token), isoNow());
  if (!userId) throw invalidToken();
  // The link is followed without a token (often in another browser): the user's own next
  // requests, with their token, must still read the verified address, wherever they land.
  const written = deps.bookmark();
  if (written !== undefined) await deps.records.recordWrite(userId, written);
}
