import type { Settings } from "../config";
import type { OneTimeTokenPurpose } from "../db/schema";
import { logWarning } from "../lib/log";

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

const WORDING: Record<OneTimeTokenPurpose, { subject: string; intro: string; action: string; ignore: string }> = {
  password_reset: {
    subject: "Reset your password",
    intro: "Someone, hopefully you, asked to reset the password of the account with this email address.",
    action: "Choose a new password",
    ignore: "If you did not ask for this, ignore this mail: your password stays as it is.",
  },
  email_verification: {
    subject: "Confirm your email address",
    intro: "Please confirm that this email address belongs to your account.",
    action: "Confirm your email address",
    ignore: "If you did not ask for this, ignore this mail.",
  },
};

/** `{APP_URL}/reset-password?token=…` or `{APP_URL}/verify-email?token=…`. */
export function accountLink(settings: Pick<Settings, "APP_URL">, purpose: OneTimeTokenPurpose, token: string): string {
  return `${settings.APP_URL}${LINK_PATHS[purpose]}?token=${encodeURIComponent(token)}`;
}

function lifetimeText(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "1 hour" : `${seconds / 3600} hours`;
  return `${Math.round(seconds / 60)} minutes`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** Plain text plus a minimal HTML part. It carries the link, never a password. */
export function composeAccountMail(
  settings: MailSettings,
  purpose: OneTimeTokenPurpose,
  to: string,
  token: string,
  lifetimeSeconds: number,
): AccountMail {
  const link = accountLink(settings, purpose, token);
  const { subject, intro, action, ignore } = WORDING[purpose];
  const validity = `The link works once, within ${lifetimeText(lifetimeSeconds)}.`;
  const text = `${intro}\n\n${action}:\n${link}\n\n${validity}\n${ignore}\n`;
  const html = [
    "<!doctype html>",
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`,
    `<p>${escapeHtml(validity)} ${escapeHtml(ignore)}</p>`,
    "</body></html>",
  ].join("\n");
  return { from: settings.EMAIL_FROM, to, subject, text, html };
}

/** Long base64url or hex runs (tokens, hashes) never reach the log, even inside an error message. */
export function redactSecrets(text: string): string {
  return text.replace(/[A-Za-z0-9_-]{32,}/g, "[redacted]").slice(0, 300);
}

/**
 * Sends one message. A failure is logged (kind, user and the error, never the message or its
 * link) and reported as false: it never changes the API's answer.
 */
export async function sendAccountMail(
  mailer: Mailer,
  mail: AccountMail,
  context: { purpose: OneTimeTokenPurpose; userId: string; requestId: string },
): Promise<boolean> {
  try {
    await mailer.send(mail);
    return true;
  } catch (error) {
    logWarning("account mail not sent", {
      purpose: context.purpose,
      user_id: context.userId,
      request_id: context.requestId,
      error: redactSecrets(error instanceof Error ? error.message : String(error)),
    });
    return false;
  }
}
