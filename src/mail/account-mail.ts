import type { Settings } from "../config";
import type { OneTimeTokenPurpose } from "../domain/vocabulary";
import { loggableError, logWarning } from "../lib/log";

/**
 * Account mail (password reset, email verification), composed in one place and sent through the
 * Cloudflare Email Service `send_email` binding (`EMAIL`). Under `wrangler dev` the binding is
 * simulated: it logs each message and writes its parts to files whose paths it prints.
 */

/** The part of the `send_email` binding this module uses. */
export type Mailer = Pick<SendEmail, "send">;

/** A composed message, as `SendEmail.send()` takes it. */
export type AccountMail = { from: string; to: string; subject: string; text: string; html: string };

type MailSettings = Pick<Settings, "APP_URL" | "EMAIL_FROM">;

/** Where each link lands: a page of the frontend at `APP_URL` that posts the token back. */
const LINK_PATHS: Record<OneTimeTokenPurpose, string> = {
  password_reset: "/reset-password",
  email_verification: "/verify-email",
};

/** The wording; `valid` must match ONE_TIME_TOKEN_TTL_SECONDS (src/domain/account-recovery.ts). */
const WORDING: Record<OneTimeTokenPurpose, { subject: string; intro: string; action: string; valid: string }> = {
  password_reset: {
    subject: "Reset your password",
    intro: "Someone, hopefully you, asked to reset the password of your account.",
    action: "Choose a new password",
    valid: "30 minutes",
  },
  email_verification: {
    subject: "Confirm your email address",
    intro: "Please confirm that this address belongs to your account.",
    action: "Confirm your email address",
    valid: "24 hours",
  },
};

/** `{APP_URL}/reset-password?token=…` or `{APP_URL}/verify-email?token=…`. */
export function accountLink(settings: Pick<Settings, "APP_URL">, purpose: OneTimeTokenPurpose, token: string): string {
  return `${settings.APP_URL}${LINK_PATHS[purpose]}?token=${encodeURIComponent(token)}`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Plain text plus a minimal HTML part. It carries the link, never a password. */
export function composeAccountMail(
  settings: MailSettings,
  purpose: OneTimeTokenPurpose,
  to: string,
  token: string,
): AccountMail {
  const link = accountLink(settings, purpose, token);
  const { subject, intro, action, valid } = WORDING[purpose];
  const outro = `The link works once, within ${valid}. If you did not ask for it, ignore this mail.`;
  const text = `${intro}\n\n${action}:\n${link}\n\n${outro}\n`;
  // Our own wording has no markup characters; the link (APP_URL) is escaped.
  const html = `<!doctype html>\n<html><body>\n<p>${intro}</p>\n<p><a href="${escapeHtml(link)}">${action}</a></p>\n<p>${outro}</p>\n</body></html>`;
  return { from: settings.EMAIL_FROM, to, subject, text, html };
}

/** The notice to the old address after an email change: what changed and what to do, no link. */
export function composeEmailChangedNotice(settings: MailSettings, oldEmail: string, newEmail: string): AccountMail {
  const subject = "Your email address was changed";
  const intro = `The email address of your account was changed from ${oldEmail} to ${newEmail}. Every session was signed out.`;
  const outro = "If this was not you, contact support from this address.";
  const text = `${intro}\n\n${outro}\n`;
  const html = `<!doctype html>\n<html><body>\n<p>${escapeHtml(intro)}</p>\n<p>${escapeHtml(outro)}</p>\n</body></html>`;
  return { from: settings.EMAIL_FROM, to: oldEmail, subject, text, html };
}

/** What a message is, for the log line of a failed send. */
export type MailKind = OneTimeTokenPurpose | "email_changed";

/**
 * Sends one message. A failure is logged (kind, user and the error, never the message or its
 * link) and reported as false: it never changes the API's answer.
 */
export async function sendAccountMail(
  mailer: Mailer,
  mail: AccountMail,
  context: { purpose: MailKind; userId: string; requestId: string },
): Promise<boolean> {
  try {
    await mailer.send(mail);
    return true;
  } catch (error) {
    logWarning("account mail not sent", {
      purpose: context.purpose,
      user_id: context.userId,
      request_id: context.requestId,
      error: loggableError(error),
    });
    return false;
  }
}
