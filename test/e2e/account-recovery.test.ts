// Password reset end to end against the README's `npm run dev` (global-setup.ts): the mail is read
// the way a developer would, from the file whose path the simulated EMAIL binding prints in the
// dev server's output. Registers three accounts (REGISTER_IP_LIMITER allows 20 a minute locally,
// and the whole e2e suite stays within it).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, inject, it } from "vitest";
import { type CallInit, call as request } from "./http";

const devLogPath = inject("devLogPath");

/** `wrangler.toml` [vars]: what the links and the sender are under `npm run dev`. */
const APP_URL = "http://localhost:5173";
const EMAIL_FROM = "no-reply@example.com";

/** A POST unless told otherwise, answering just status and body (the tests compare them whole). */
async function call(path: string, init: CallInit = {}) {
  const { status, body } = await request(path, { method: "POST", ...init });
  return { status, body };
}

type ReportedMail = { from: string; to: string; subject: string; textPath: string };

/**
 * The messages the dev server reported, e.g.
 * `send_email binding called with MessageBuilder:` / `From: …` / `To: …` / `Subject: …` /
 * (blank) / `Text: /…/email-text/<id>.txt` / `HTML: /…/email-html/<id>.html`.
 */
function reportedMails(): ReportedMail[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI colour codes.
  const log = readFileSync(devLogPath, "utf8").replace(/\u001b\[[0-9;]*m/g, "");
  return log
    .split("send_email binding called with MessageBuilder:")
    .slice(1)
    .map((block) => {
      const field = (name: string) => new RegExp(`^${name}: (.+)$`, "m").exec(block)?.[1]?.trim() ?? "";
      return { from: field("From"), to: field("To"), subject: field("Subject"), textPath: field("Text") };
    });
}

/** Waits for the dev server to report a mail to `to` and returns its text part. */
async function waitForMail(to: string, subject: string, timeoutMs = 15_000): Promise<ReportedMail & { text: string }> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const mail = reportedMails().find((candidate) => candidate.to === to && candidate.subject === subject);
    if (mail?.textPath) return { ...mail, text: readFileSync(mail.textPath, "utf8") };
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no mail to ${to} reported by wrangler dev within ${timeoutMs} ms`);
}

describe("password reset under wrangler dev, end to end", () => {
  it("register → request a reset → read the mail → confirm → log in with the new password", async () => {
    const email = `e2e-reset-${Date.now()}@example.com`;
    const oldPassword = "e2e old password 1";
    const newPassword = "e2e new password 2";

    const registered = await call("/v1/auth/register", { body: { email, name: "Reset", password: oldPassword } });
    expect(registered.status).toBe(201);
    const oldRefresh = String(registered.body.refresh_token);
    const oldAccess = String(registered.body.access_token);

    const requested = await call("/v1/auth/password-reset", { body: { email } });
    expect(requested).toEqual({ status: 202, body: { status: "accepted" } });

    const mail = await waitForMail(email, "Reset your password");
    expect(mail.from).toBe(EMAIL_FROM);
    const link = new RegExp(`${APP_URL}/reset-password\\?token=([A-Za-z0-9_-]+)`).exec(mail.text);
    const token = link?.[1] ?? "";
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect((await call("/v1/auth/password-reset/confirm", { body: { token, password: newPassword } })).status).toBe(
      204,
    );
    // The link works once.
    const again = await call("/v1/auth/password-reset/confirm", { body: { token, password: "e2e third password" } });
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ type: "ValidationError", details: { issues: [{ path: "token" }] } });

    const loggedIn = await call("/v1/auth/login", { body: { email, password: newPassword } });
    expect(loggedIn.status).toBe(200);
    expect((loggedIn.body.user as { email_verified: boolean }).email_verified).toBe(true);
    expect((await call("/v1/auth/login", { body: { email, password: oldPassword } })).status).toBe(401);
    // Every earlier session is over.
    expect((await call("/v1/auth/refresh", { body: { refresh_token: oldRefresh } })).status).toBe(401);
    expect((await call("/v1/users/me", { method: "GET", token: oldAccess })).status).toBe(401);
  });
});

/** The reset token of the newest reset mail to `email`. */
async function mailedResetToken(email: string): Promise<string> {
  const mail = await waitForMail(email, "Reset your password");
  return new RegExp(`${APP_URL}/reset-password\\?token=([A-Za-z0-9_-]+)`).exec(mail.text)?.[1] ?? "";
}

/**
 * Runs SQL on the local D1 database that `npm run dev` serves, as a developer would with wrangler:
 * here only to date a sign-in back, which no request can do.
 */
function localD1(command: string): void {
  execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--command", command], {
    stdio: "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
}

describe("account takeover paths under wrangler dev, end to end", () => {
  it("a reset link mailed before a password change is void after it", async () => {
    const email = `e2e-void-reset-${Date.now()}@example.com`;
    const password = "e2e first password";
    const registered = await call("/v1/auth/register", { body: { email, name: "Void", password } });
    expect(registered.status).toBe(201);
    expect((await call("/v1/auth/password-reset", { body: { email } })).status).toBe(202);
    const token = await mailedResetToken(email);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const changed = await call("/v1/users/me", {
      method: "PATCH",
      token: String(registered.body.access_token),
      body: { password: "e2e changed by the owner", current_password: password },
    });
    expect(changed.status).toBe(200);
    const stolen = await call("/v1/auth/password-reset/confirm", { body: { token, password: "e2e set by a thief" } });
    expect(stolen.status).toBe(400);
    expect(stolen.body).toMatchObject({ type: "ValidationError", details: { issues: [{ path: "token" }] } });
    expect((await call("/v1/auth/login", { body: { email, password: "e2e changed by the owner" } })).status).toBe(200);
    expect((await call("/v1/auth/login", { body: { email, password: "e2e set by a thief" } })).status).toBe(401);
  });

  it("a refresh token alone cannot move the account: /api wants a password sign-in in the last 5 minutes", async () => {
    const email = `e2e-refresh-only-${Date.now()}@example.com`;
    const password = "e2e owner password";
    const registered = await call("/v1/auth/register", { body: { email, name: "Owner", password } });
    expect(registered.status).toBe(201);
    // The sign-in was 10 minutes ago; what the attacker holds is its refresh token.
    const tenMinutesAgo = new Date(Date.now() - 10 * 60 * 1000).toISOString();
    localD1(
      `update refresh_tokens set authenticated_at = '${tenMinutesAgo}' where user_id = '${String((registered.body.user as { id: string }).id)}'`,
    );
    const refreshed = await call("/v1/auth/refresh", {
      body: { refresh_token: String(registered.body.refresh_token) },
    });
    expect(refreshed.status).toBe(200);
    const token = String(refreshed.body.access_token);
    for (const user of [{ email: `e2e-attacker-${Date.now()}@example.com` }, { password: "e2e attacker password" }]) {
      const taken = await call("/api/user", { method: "PUT", scheme: "Token", token, body: { user } });
      expect(taken).toEqual({
        status: 401,
        body: { errors: { body: ["Sign in again to change your password or email"] } },
      });
    }
    // The owner signs in with the password and may.
    const signedIn = await call("/api/users/login", { body: { user: { email, password } } });
    expect(signedIn.status).toBe(200);
    const fresh = String((signedIn.body.user as { token: string }).token);
    const moved = await call("/api/user", {
      method: "PUT",
      scheme: "Token",
      token: fresh,
      body: { user: { email: `e2e-moved-${Date.now()}@example.com` } },
    });
    expect(moved.status).toBe(200);
    const notice = await waitForMail(email, "Your email address was changed");
    expect(notice.text).not.toMatch(/token=/);
  });
});
