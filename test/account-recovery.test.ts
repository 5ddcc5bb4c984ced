import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { sha256Hex } from "../src/lib/encoding";
import {
  api,
  BASE,
  createUser,
  type EnvOverrides,
  expectError,
  fetchSettled,
  json,
  login,
  type Session,
  uniqueEmail,
} from "./helpers";
import { linkToken, recordingEmailBinding, type SentMail } from "./mail-recorder";
import { userRecordsWith } from "./user-records";

type CallInit = { method?: string; body?: unknown; token?: string; ip?: string; env?: EnvOverrides };

/**
 * Calls the app with a recording `EMAIL` binding (and any other env overrides), and waits for the
 * work it left to `waitUntil` (the mail), so `mail.sent` is complete when this returns.
 */
async function call(path: string, init: CallInit = {}, mail = recordingEmailBinding()) {
  const headers = new Headers({ "CF-Connecting-IP": init.ip ?? "203.0.113.200" });
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  const response = await fetchSettled(
    new Request(`${BASE}${path}`, {
      method: init.method ?? "POST",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
    { EMAIL: mail.binding, ...init.env },
  );
  return { response, sent: mail.sent };
}

const requestReset = (email: string, init: Omit<CallInit, "body"> = {}) =>
  call("/v1/auth/password-reset", { ...init, body: { email } });
const confirmReset = (token: string, password: string, init: Omit<CallInit, "body"> = {}) =>
  call("/v1/auth/password-reset/confirm", { ...init, body: { token, password } });
const requestVerification = (session: Session, init: Omit<CallInit, "token"> = {}) =>
  call("/v1/auth/email-verification", { ...init, token: session.access_token });
const confirmVerification = (token: string, init: Omit<CallInit, "body"> = {}) =>
  call("/v1/auth/email-verification/confirm", { ...init, body: { token } });

/** Asks for a reset of `session`'s account and returns the token of the mailed link. */
async function resetToken(session: Session): Promise<string> {
  const { response, sent } = await requestReset(session.email);
  expect(response.status).toBe(202);
  expect(sent).toHaveLength(1);
  return linkToken(sent[0] as SentMail, "/reset-password");
}

async function verificationToken(session: Session): Promise<string> {
  const { response, sent } = await requestVerification(session);
  expect(response.status).toBe(202);
  expect(sent).toHaveLength(1);
  return linkToken(sent[0] as SentMail, "/verify-email");
}

/** The one answer for every unusable token: 400 on `token`, the same message (request id aside). */
async function expectInvalidToken(response: Response): Promise<unknown> {
  const body = await expectError(response, 400, "ValidationError");
  const issues = (body.details as { issues: { path: string; message: string }[] }).issues;
  expect(issues[0]?.path).toBe("token");
  return { error: body.error, type: body.type, details: body.details };
}

const NEW_PASSWORD = "a brand new passphrase";

const me = (token: string) => api("/v1/users/me", { token });

afterEach(() => {
  vi.restoreAllMocks();
});

describe("POST /v1/auth/password-reset", () => {
  it("mails an active account a reset link from EMAIL_FROM; only the token's hash is stored", async () => {
    const user = await createUser();
    const { response, sent } = await requestReset(`  ${user.email.toUpperCase()} `);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "accepted" });
    expect(sent).toHaveLength(1);
    const mail = sent[0] as SentMail;
    expect(mail.to).toBe(user.email);
    expect(mail.from).toBe(env.EMAIL_FROM);
    expect(mail.subject).toBe("Reset your password");
    expect(mail.text).toContain("30 minutes");
    expect(mail.html).toMatch(/^<!doctype html>/);
    const token = linkToken(mail, "/reset-password");
    // 32 random bytes in base64url: 256 bits.
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await env.DB.prepare("select * from one_time_tokens where user_id = ?").bind(user.id).all();
    expect(rows.results).toEqual([
      {
        token_hash: await sha256Hex(token),
        user_id: user.id,
        purpose: "password_reset",
        email: user.email,
        created_at: expect.any(String),
        expires_at: expect.any(String),
        used_at: null,
      },
    ]);
    const row = rows.results[0] as { created_at: string; expires_at: string };
    expect(Date.parse(row.expires_at) - Date.parse(row.created_at)).toBe(30 * 60 * 1000);
    expect(JSON.stringify(rows.results)).not.toContain(token);
  });

  it("answers unknown, inactive and active accounts alike, and mails only the active one", async () => {
    const active = await createUser();
    const inactive = await createUser();
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(inactive.id).run();
    const answers = [];
    for (const email of [uniqueEmail("nobody"), inactive.email, active.email]) {
      const { response, sent } = await requestReset(email);
      const headers = Object.fromEntries(
        [...response.headers].filter(([name]) => !["x-request-id", "server-timing"].includes(name)),
      );
      answers.push({ status: response.status, body: await response.text(), headers, mails: sent.length });
    }
    const [unknown, deactivated, known] = answers;
    expect(unknown).toMatchObject({ status: 202, body: '{"status":"accepted"}', mails: 0 });
    expect({ ...deactivated, mails: 0 }).toEqual(unknown);
    expect({ ...known, mails: 0 }).toEqual(unknown);
    expect(deactivated?.mails).toBe(0);
    expect(known?.mails).toBe(1);
  });

  it("validates the body", async () => {
    const bad = await requestReset("not-an-email");
    const body = await expectError(bad.response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "email", message: expect.any(String) }] });
    const extra = await call("/v1/auth/password-reset", { body: { email: uniqueEmail(), role: "admin" } });
    const extraBody = await expectError(extra.response, 400, "ValidationError");
    expect(extraBody.details).toEqual({ issues: [{ path: "role", message: "Unknown field" }] });
  });

  it("is limited per client IP: 429 with Retry-After", async () => {
    const strict = { PASSWORD_RESET_IP_LIMITER: env.TEST_STRICT_LIMITER };
    const ip = "198.51.100.61";
    for (let i = 0; i < 3; i++) {
      expect((await requestReset(uniqueEmail(), { ip, env: strict })).response.status).toBe(202);
    }
    const limited = (await requestReset(uniqueEmail(), { ip, env: strict })).response;
    const body = await expectError(limited, 429, "RateLimitError");
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(body.details).toEqual({ retry_after_seconds: 60 });
  });

  it("over the per-email limit still answers 202, and sends nothing", async () => {
    const strict = { PASSWORD_RESET_EMAIL_LIMITER: env.TEST_STRICT_LIMITER };
    const user = await createUser();
    const nobody = uniqueEmail("nobody");
    const answers: string[] = [];
    let mails = 0;
    for (let i = 0; i < 5; i++) {
      // From a different address each time: the limit is per email.
      for (const email of [user.email, nobody]) {
        const { response, sent } = await requestReset(email, { ip: `192.0.2.${60 + i}`, env: strict });
        expect(response.status).toBe(202);
        answers.push(await response.text());
        mails += sent.length;
      }
    }
    expect(new Set(answers)).toEqual(new Set(['{"status":"accepted"}']));
    // The strict limiter allows 3 a minute: three mails, then nothing, for the account that exists.
    expect(mails).toBe(3);
  });

  it("a failed send is logged without the token and does not change the answer", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const user = await createUser();
    const failing = recordingEmailBinding({ fail: true });
    const { response, sent } = await call("/v1/auth/password-reset", { body: { email: user.email } }, failing);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "accepted" });
    const token = linkToken(sent[0] as SentMail, "/reset-password");
    const lines = warn.mock.calls.map(([line]) => String(line));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? "")).toMatchObject({
      level: "warn",
      msg: "account mail not sent",
      purpose: "password_reset",
      user_id: user.id,
      error: expect.stringContaining("sending refused (injected)"),
    });
    expect(lines[0]).not.toContain(token);
    // The link that could not be mailed still works (a new request would replace it).
    expect((await confirmReset(token, NEW_PASSWORD)).response.status).toBe(204);
  });
});

describe("POST /v1/auth/password-reset/confirm", () => {
  it("changes the password and ends every session", async () => {
    const user = await createUser();
    const second = await login(user.email, user.password);
    const secondPair = await json<{ access_token: string; refresh_token: string }>(second);
    expect((await me(user.access_token)).status).toBe(200);
    const token = await resetToken(user);

    const { response } = await confirmReset(token, NEW_PASSWORD);
    expect(response.status).toBe(204);

    // Every refresh token and every access token of the user is dead.
    for (const refreshToken of [user.refresh_token, secondPair.refresh_token]) {
      const refreshed = await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: refreshToken } });
      await expectError(refreshed, 401, "AuthenticationError");
    }
    for (const accessToken of [user.access_token, secondPair.access_token]) {
      await expectError(await me(accessToken), 401, "AuthenticationError");
    }
    await expectError(await login(user.email, user.password), 401, "AuthenticationError");
    const fresh = await login(user.email, NEW_PASSWORD);
    expect(fresh.status).toBe(200);
    // The link reached the mailbox: the address counts as verified.
    expect((await json<{ user: { email_verified: boolean } }>(fresh)).user.email_verified).toBe(true);
  });

  it("one answer for a wrong, used, expired, superseded or other-purpose token", async () => {
    const user = await createUser();
    // Asked for first: a completed reset verifies the address, and then no verification mail is sent.
    const verification = await verificationToken(user);
    const answers: unknown[] = [];

    answers.push(await expectInvalidToken((await confirmReset("x".repeat(43), NEW_PASSWORD)).response));
    answers.push(await expectInvalidToken((await confirmReset("", NEW_PASSWORD)).response));

    const used = await resetToken(user);
    expect((await confirmReset(used, NEW_PASSWORD)).response.status).toBe(204);
    answers.push(await expectInvalidToken((await confirmReset(used, "yet another passphrase")).response));

    const expired = await resetToken(user);
    await env.DB.prepare("update one_time_tokens set expires_at = ? where token_hash = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), await sha256Hex(expired))
      .run();
    answers.push(await expectInvalidToken((await confirmReset(expired, NEW_PASSWORD)).response));

    const superseded = await resetToken(user);
    const newer = await resetToken(user);
    answers.push(await expectInvalidToken((await confirmReset(superseded, NEW_PASSWORD)).response));

    answers.push(await expectInvalidToken((await confirmReset(verification, NEW_PASSWORD)).response));
    answers.push(await expectInvalidToken((await confirmVerification(newer)).response));

    for (const answer of answers) expect(answer).toEqual(answers[0]);
    // None of those touched the password; the newest reset token and the verification one still work.
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
    expect((await confirmReset(newer, "the final passphrase")).response.status).toBe(204);
    expect((await confirmVerification(verification)).response.status).toBe(204);
  });

  it("when the sessions cannot be ended: 503, and repeating the request completes it", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const unreachable = userRecordsWith(["endSessions"]);
    const user = await createUser();
    const token = await resetToken(user);
    const failed = await confirmReset(token, NEW_PASSWORD, { env: { USER_RECORDS: unreachable.namespace } });
    const body = await expectError(failed.response, 503, "ServiceUnavailableError");
    expect(body.details).toEqual({ dependency: "user_record", reason: "revocation_pending" });
    // The password changed and the refresh tokens ended; the access token lives until the repeat.
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
    expect((await me(user.access_token)).status).toBe(200);
    expect((await confirmReset(token, NEW_PASSWORD)).response.status).toBe(204);
    await expectError(await me(user.access_token), 401, "AuthenticationError");
    // Only the password it set repeats it; otherwise the used token is a bad token as ever.
    await expectInvalidToken((await confirmReset(token, "some other passphrase")).response);
  });

  it("a token stops working when its account is deactivated", async () => {
    const user = await createUser();
    const token = await resetToken(user);
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(user.id).run();
    await expectInvalidToken((await confirmReset(token, NEW_PASSWORD)).response);
  });

  it("a password outside the policy is a 400 on password and does not use up the token", async () => {
    const user = await createUser();
    const token = await resetToken(user);
    const { response } = await confirmReset(token, "short");
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "password", message: expect.any(String) }] });
    expect((await confirmReset(token, NEW_PASSWORD)).response.status).toBe(204);
  });

  it("of two concurrent confirms with one token, exactly one succeeds", async () => {
    const user = await createUser();
    const token = await resetToken(user);
    const passwords = ["first concurrent passphrase", "second concurrent passphrase"];
    const results = await Promise.all(passwords.map((password) => confirmReset(token, password)));
    const statuses = results.map(({ response }) => response.status).sort();
    expect(statuses).toEqual([204, 400]);
    const winner = passwords[results.findIndex(({ response }) => response.status === 204)] as string;
    const loser = passwords.find((password) => password !== winner) as string;
    expect((await login(user.email, winner)).status).toBe(200);
    expect((await login(user.email, loser)).status).toBe(401);
    const used = await env.DB.prepare("select used_at from one_time_tokens where token_hash = ?")
      .bind(await sha256Hex(token))
      .first<{ used_at: string | null }>();
    expect(used?.used_at).not.toBeNull();
  });
});

describe("POST /v1/auth/email-verification", () => {
  it("needs a bearer token", async () => {
    await expectError((await call("/v1/auth/email-verification")).response, 401, "AuthenticationError");
  });

  it("mails a verification link; confirming it verifies the email, once", async () => {
    const user = await createUser();
    expect(user.user.email_verified).toBe(false);
    const { response, sent } = await requestVerification(user);
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ status: "accepted" });
    const mail = sent[0] as SentMail;
    expect(mail).toMatchObject({ to: user.email, from: env.EMAIL_FROM, subject: "Confirm your email address" });
    expect(mail.text).toContain("24 hours");
    const token = linkToken(mail, "/verify-email");
    const row = await env.DB.prepare("select created_at, expires_at from one_time_tokens where token_hash = ?")
      .bind(await sha256Hex(token))
      .first<{ created_at: string; expires_at: string }>();
    expect(Date.parse(row?.expires_at ?? "") - Date.parse(row?.created_at ?? "")).toBe(24 * 60 * 60 * 1000);

    expect((await confirmVerification(token)).response.status).toBe(204);
    const profile = await json<{ email_verified: boolean }>(await me(user.access_token));
    expect(profile.email_verified).toBe(true);
    await expectInvalidToken((await confirmVerification(token)).response);
  });

  it("sends nothing when the email is already verified", async () => {
    const user = await createUser();
    expect((await confirmVerification(await verificationToken(user))).response.status).toBe(204);
    const again = await requestVerification(user);
    expect(again.response.status).toBe(202);
    expect(again.sent).toHaveLength(0);
  });

  it("a new request makes the earlier link useless", async () => {
    const user = await createUser();
    const first = await verificationToken(user);
    const second = await verificationToken(user);
    await expectInvalidToken((await confirmVerification(first)).response);
    expect((await confirmVerification(second)).response.status).toBe(204);
  });

  it("is limited per client IP and per email: 429 with Retry-After", async () => {
    const byIp = { EMAIL_VERIFICATION_IP_LIMITER: env.TEST_STRICT_LIMITER };
    const ip = "198.51.100.71";
    for (let i = 0; i < 3; i++) {
      expect((await requestVerification(await createUser(), { ip, env: byIp })).response.status).toBe(202);
    }
    const limitedIp = (await requestVerification(await createUser(), { ip, env: byIp })).response;
    await expectError(limitedIp, 429, "RateLimitError");
    expect(limitedIp.headers.get("Retry-After")).toBe("60");

    const byEmail = { EMAIL_VERIFICATION_EMAIL_LIMITER: env.TEST_STRICT_LIMITER };
    const user = await createUser();
    for (let i = 0; i < 3; i++) {
      const ok = await requestVerification(user, { ip: `192.0.2.${80 + i}`, env: byEmail });
      expect(ok.response.status).toBe(202);
    }
    const limited = await requestVerification(user, { ip: "192.0.2.99", env: byEmail });
    await expectError(limited.response, 429, "RateLimitError");
    expect(limited.sent).toHaveLength(0);
  });
});

describe("REQUIRE_VERIFIED_EMAIL", () => {
  const createPost = (session: Session, status: "draft" | "published", env?: EnvOverrides) =>
    call("/v1/posts", { token: session.access_token, body: { title: "T", content: "C", status }, env });
  const patchPost = (session: Session, id: string, body: Record<string, unknown>, env?: EnvOverrides) =>
    call(`/v1/posts/${id}`, { method: "PATCH", token: session.access_token, body, env });
  const on = { REQUIRE_VERIFIED_EMAIL: "true" };

  it("off (the default): an unverified user creates and publishes", async () => {
    const user = await createUser();
    expect((await createPost(user, "published")).response.status).toBe(201);
    const draft = await json<{ id: string }>((await createPost(user, "draft")).response);
    expect((await patchPost(user, draft.id, { status: "published" })).response.status).toBe(200);
  });

  it("on: creating or publishing needs a verified email (403); other edits do not", async () => {
    const user = await createUser();
    const draft = await json<{ id: string }>((await createPost(user, "draft")).response);
    for (const status of ["draft", "published"] as const) {
      const refused = await expectError((await createPost(user, status, on)).response, 403, "PermissionError");
      expect(refused.details).toEqual({ reason: "email_not_verified" });
    }
    await expectError((await patchPost(user, draft.id, { status: "published" }, on)).response, 403, "PermissionError");
    expect((await patchPost(user, draft.id, { title: "Still a draft" }, on)).response.status).toBe(200);

    expect((await confirmVerification(await verificationToken(user))).response.status).toBe(204);
    expect((await createPost(user, "published", on)).response.status).toBe(201);
    const published = await patchPost(user, draft.id, { status: "published" }, on);
    expect(published.response.status).toBe(200);
    expect(await published.response.json()).toMatchObject({ status: "published" });
  });
});

describe("account mail settings", () => {
  it.each([
    ["APP_URL", "not a url"],
    ["APP_URL", "ftp://app.example.com"],
    ["EMAIL_FROM", "nobody"],
    ["REQUIRE_VERIFIED_EMAIL", "yes"],
  ])("an invalid %s (%s) is a 503 naming it", async (name, value) => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const { response } = await requestReset(uniqueEmail(), { env: { [name]: value } });
    const body = await expectError(response, 503, "ServiceUnavailableError");
    expect(body.details).toEqual({ invalid_settings: [name] });
  });

  it("links start with APP_URL, without a doubled slash", async () => {
    const user = await createUser();
    const { sent } = await requestReset(user.email, { env: { APP_URL: "https://app.example.com/" } });
    expect((sent[0] as SentMail).text).toMatch(/\nhttps:\/\/app\.example\.com\/reset-password\?token=[\w-]{43}\n/);
  });
});

describe("logs", () => {
  it("never contain a one-time token, its hash or a password", async () => {
    const lines: string[] = [];
    for (const method of ["log", "info", "warn", "error"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
      });
    }
    const user = await createUser();
    const secrets = [user.password, NEW_PASSWORD];
    const verification = await verificationToken(user);
    const reset = await resetToken(user);
    await confirmReset(reset, "short");
    await confirmReset(reset, NEW_PASSWORD);
    await confirmReset(reset, NEW_PASSWORD);
    await login(user.email, NEW_PASSWORD);
    await confirmVerification(verification);
    await confirmVerification(verification);
    // And when sending fails.
    const failing = recordingEmailBinding({ fail: true });
    await call("/v1/auth/password-reset", { body: { email: user.email } }, failing);
    const failed = linkToken(failing.sent[0] as SentMail, "/reset-password");
    for (const token of [reset, verification, failed]) secrets.push(token, await sha256Hex(token));

    expect(lines.length).toBeGreaterThanOrEqual(9);
    for (const line of lines) for (const secret of secrets) expect(line).not.toContain(secret);
  });
});
