// The account-takeover paths of the adversarial review (issue 18), one `describe` each, in the
// review's order. Each test was run against the code before its fix and failed there.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { BOOKMARK_HEADER } from "../src/db/session";
import { conduit, createArticle, registerConduitUser, uniqueConduitEmail, uniqueTag } from "./conduit/helpers";
import { api, BASE, createAdmin, createPost, createUser, expectError, json, login, type Session } from "./helpers";
import { linkToken, recordingEmailBinding, type SentMail } from "./mail-recorder";
import { userRecordsWith } from "./user-records";

type Overrides = Partial<Record<keyof Cloudflare.Env, unknown>>;
type SendInit = { method?: string; body?: unknown; headers?: Record<string, string>; ip?: string; env?: Overrides };

/** The app with a recording EMAIL binding and any bindings swapped; waits for its `waitUntil` work. */
async function send(path: string, init: SendInit = {}) {
  const mail = recordingEmailBinding({ forward: false });
  const headers = new Headers({ "CF-Connecting-IP": init.ip ?? "203.0.113.180", ...init.headers });
  if (init.body !== undefined) headers.set("Content-Type", "application/json");
  const ctx = createExecutionContext();
  const response = await app.fetch(
    new Request(`${BASE}${path}`, {
      method: init.method ?? "POST",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
    { ...env, EMAIL: mail.binding, ...init.env },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { response, sent: mail.sent };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const conduitToken = (token: string) => ({ Authorization: `Token ${token}` });
const strict = (...names: (keyof Cloudflare.Env)[]): Overrides =>
  Object.fromEntries(names.map((name) => [name, env.TEST_STRICT_LIMITER]));

async function mailedToken(
  path: "/v1/auth/password-reset" | "/v1/auth/email-verification",
  init: SendInit,
): Promise<string> {
  const { response, sent } = await send(path, init);
  expect(response.status).toBe(202);
  expect(sent).toHaveLength(1);
  return linkToken(sent[0] as SentMail, path === "/v1/auth/password-reset" ? "/reset-password" : "/verify-email");
}

const resetTokenFor = (email: string) => mailedToken("/v1/auth/password-reset", { body: { email } });
const verificationTokenFor = (token: string) => mailedToken("/v1/auth/email-verification", { headers: bearer(token) });

async function expectInvalidToken(response: Response) {
  const body = await expectError(response, 400, "ValidationError");
  expect((body.details as { issues: { path: string }[] }).issues[0]?.path).toBe("token");
}

async function emailVerified(userId: string): Promise<boolean> {
  const row = await env.DB.prepare("select email_verified_at from users where id = ?")
    .bind(userId)
    .first<{ email_verified_at: string | null }>();
  return row?.email_verified_at != null;
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("1. re-authentication means a password, not a recent token", () => {
  it("a refresh token alone cannot change the email or password through /api", async () => {
    const owner = await createUser();
    // Signed in with the password 10 minutes ago; the refresh is now.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() - 10 * 60 * 1000 });
    const signedIn = await json<{ refresh_token: string }>(await login(owner.email, owner.password));
    vi.useRealTimers();
    const refreshed = await api("/v1/auth/refresh", {
      method: "POST",
      body: { refresh_token: signedIn.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    const { access_token } = await json<{ access_token: string }>(refreshed);
    const attacker = uniqueConduitEmail("attacker");
    for (const user of [{ email: attacker }, { password: "the attacker's password" }]) {
      const taken = await conduit("/user", { method: "PUT", token: access_token, body: { user } });
      expect(taken.status).toBe(401);
      expect(await taken.json()).toEqual({ errors: { body: ["Sign in again to change your password or email"] } });
    }
    expect((await login(owner.email, owner.password)).status).toBe(200);
  });

  it("a password login within 5 minutes may; the refresh keeps the sign-in time, not the refresh time", async () => {
    const owner = await createUser();
    const refreshed = await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: owner.refresh_token } });
    const { access_token } = await json<{ access_token: string }>(refreshed);
    const moved = await conduit("/user", { method: "PUT", token: access_token, body: { user: { bio: "fine" } } });
    expect(moved.status).toBe(200);
    const email = uniqueConduitEmail("moved");
    const changed = await conduit("/user", { method: "PUT", token: access_token, body: { user: { email } } });
    expect(changed.status).toBe(200);
  });

  it("an email change mails the old address and ends every other session", async () => {
    const owner = await registerConduitUser();
    const other = await json<{ refresh_token: string; access_token: string }>(await login(owner.email, owner.password));
    const email = uniqueConduitEmail("new-home");
    const { response, sent } = await send("/api/user", {
      method: "PUT",
      headers: conduitToken(owner.token),
      body: { user: { email } },
    });
    expect(response.status).toBe(200);
    const { user } = await json<{ user: { email: string; token: string } }>(response);
    expect(user.email).toBe(email);
    expect(sent.map((mail) => [mail.to, mail.subject])).toEqual([[owner.email, "Your email address was changed"]]);
    expect((sent[0] as SentMail).text).toContain(email);
    expect((sent[0] as SentMail).text).not.toMatch(/token=/);
    // The old sessions are over (refresh and access tokens); the response's new token works.
    expect(
      (await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: other.refresh_token } })).status,
    ).toBe(401);
    expect((await api("/v1/users/me", { token: other.access_token })).status).toBe(401);
    expect((await conduit("/user", { token: owner.token })).status).toBe(401);
    expect((await conduit("/user", { token: user.token })).status).toBe(200);
  });
});

describe("2. reset links are void after a password or email change", () => {
  it("a reset link mailed before a password change no longer works", async () => {
    const owner = await createUser();
    const token = await resetTokenFor(owner.email);
    const changed = await api("/v1/users/me", {
      method: "PATCH",
      token: owner.access_token,
      body: { password: "changed by the owner", current_password: owner.password },
    });
    expect(changed.status).toBe(200);
    const reset = await send("/v1/auth/password-reset/confirm", { body: { token, password: "set by the thief" } });
    await expectInvalidToken(reset.response);
    expect((await login(owner.email, "changed by the owner")).status).toBe(200);
  });

  it("a reset link mailed to the old address no longer works after an email change, and verifies nothing", async () => {
    const owner = await registerConduitUser();
    const token = await resetTokenFor(owner.email);
    const email = uniqueConduitEmail("moved");
    expect((await conduit("/user", { method: "PUT", token: owner.token, body: { user: { email } } })).status).toBe(200);
    const reset = await send("/v1/auth/password-reset/confirm", { body: { token, password: "set by the thief" } });
    await expectInvalidToken(reset.response);
    expect(await emailVerified(owner.id)).toBe(false);
    expect((await login(email, owner.password)).status).toBe(200);
  });

  it("a completed reset verifies the address the mail went to", async () => {
    const owner = await createUser();
    const token = await resetTokenFor(owner.email);
    expect(
      (await send("/v1/auth/password-reset/confirm", { body: { token, password: "a new one" } })).response.status,
    ).toBe(204);
    expect(await emailVerified(owner.id)).toBe(true);
  });
});

describe("3. a verification link verifies only the address it was mailed to", () => {
  it("changing the email after asking for a link: the old link verifies nothing", async () => {
    const owner = await registerConduitUser();
    const token = await verificationTokenFor(owner.token);
    const victim = uniqueConduitEmail("someone-else");
    expect(
      (await conduit("/user", { method: "PUT", token: owner.token, body: { user: { email: victim } } })).status,
    ).toBe(200);
    await expectInvalidToken((await send("/v1/auth/email-verification/confirm", { body: { token } })).response);
    expect(await emailVerified(owner.id)).toBe(false);
  });

  it("a link for the current address still verifies it", async () => {
    const owner = await createUser();
    const token = await verificationTokenFor(owner.access_token);
    expect((await send("/v1/auth/email-verification/confirm", { body: { token } })).response.status).toBe(204);
    expect(await emailVerified(owner.id)).toBe(true);
  });
});

describe("4. the current-password check of PATCH /v1/users/me is rate-limited", () => {
  const guess = (owner: Session, body: Record<string, string>, ip = "198.51.100.140") =>
    send("/v1/users/me", {
      method: "PATCH",
      headers: bearer(owner.access_token),
      body,
      ip,
      env: strict("LOGIN_EMAIL_LIMITER"),
    });

  it("wrong guesses share the account's login budget: the 4th is a 429", async () => {
    const owner = await createUser();
    for (let i = 0; i < 3; i++) {
      const wrong = await guess(owner, { password: "attacker's new one", current_password: `guess ${i}` });
      await expectError(wrong.response, 401, "AuthenticationError");
    }
    const limited = await guess(owner, { password: "attacker's new one", current_password: owner.password });
    await expectError(limited.response, 429, "RateLimitError");
    expect((await login(owner.email, owner.password)).status).toBe(200);
  });

  it("a guess of the current password as the new one tells nothing: 401 like any wrong guess", async () => {
    const owner = await createUser();
    const right = await guess(owner, { password: owner.password, current_password: "not it" }, "198.51.100.141");
    const wrong = await guess(owner, { password: "not the password", current_password: "not it" }, "198.51.100.141");
    const bodies = [];
    for (const { response } of [right, wrong]) {
      const body = await expectError(response, 401, "AuthenticationError");
      bodies.push({ error: body.error, details: body.details });
    }
    expect(bodies[0]).toEqual(bodies[1]);
  });
});

describe("4a. a password change whose revocation could not be recorded still converges", () => {
  it("503 first; the repeat with the same body answers 401 for the old token, and has ended the sessions", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const unreachable = userRecordsWith(["endSessions"]);
    const owner = await createUser();
    const body = { password: "the owner's new password", current_password: owner.password };
    const change = (overrides: Overrides = {}) =>
      send("/v1/users/me", { method: "PATCH", headers: bearer(owner.access_token), body, env: overrides });
    const failed = await change({ USER_RECORDS: unreachable.namespace });
    const error = await expectError(failed.response, 503, "ServiceUnavailableError");
    expect(error.details).toEqual({ dependency: "user_record", reason: "revocation_pending" });
    expect((await api("/v1/users/me", { token: owner.access_token })).status).toBe(200);
    const repeated = await change();
    const revoked = await expectError(repeated.response, 401, "AuthenticationError");
    expect(revoked.error).toBe("Access token has been revoked");
    expect((await api("/v1/users/me", { token: owner.access_token })).status).toBe(401);
    expect((await login(owner.email, "the owner's new password")).status).toBe(200);
  });
});

describe("5. every write counts against the user's write limit", () => {
  const limited = strict("POST_WRITE_USER_LIMITER");

  it.each([
    ["PATCH /v1/posts/:id", "PATCH", { title: "edited" }],
    ["DELETE /v1/posts/:id (an admin's)", "DELETE", undefined],
  ])("%s: the 4th within the window is a 429", async (_name, method, body) => {
    const author = await createAdmin();
    const posts = [];
    for (let i = 0; i < 4; i++) posts.push(await createPost(author.access_token, { status: "published" }));
    const write = (id: string) =>
      send(`/v1/posts/${id}`, { method, headers: bearer(author.access_token), body, env: limited });
    for (const post of posts.slice(0, 3)) expect((await write(post.id)).response.status).toBeLessThan(300);
    await expectError((await write(posts[3]?.id ?? "")).response, 429, "RateLimitError");
  });

  it("PATCH /v1/users/me: the 4th within the window is a 429", async () => {
    const user = await createUser();
    const rename = (name: string) =>
      send("/v1/users/me", { method: "PATCH", headers: bearer(user.access_token), body: { name }, env: limited });
    for (let i = 0; i < 3; i++) expect((await rename(`Name ${i}`)).response.status).toBe(200);
    await expectError((await rename("Name 4")).response, 429, "RateLimitError");
  });
});

describe("6. nobody can lock the owner out of login", () => {
  const attempt = (email: string, password: string, ip: string, limiters: Overrides) =>
    send("/v1/auth/login", { body: { email, password }, ip, env: limiters });

  it("wrong passwords from another address do not refuse the owner's right one", async () => {
    const owner = await createUser();
    const limiters = strict("LOGIN_EMAIL_LIMITER");
    for (let i = 0; i < 5; i++) await attempt(owner.email, `wrong ${i}`, "192.0.2.150", limiters);
    const attacker = await attempt(owner.email, "wrong again", "192.0.2.150", limiters);
    await expectError(attacker.response, 429, "RateLimitError");
    const owners = await attempt(owner.email, owner.password, "198.51.100.150", limiters);
    expect(owners.response.status).toBe(200);
  });

  it("through /api too", async () => {
    const owner = await registerConduitUser();
    const limiters = strict("LOGIN_EMAIL_LIMITER");
    const body = (password: string) => ({ user: { email: owner.email, password } });
    for (let i = 0; i < 4; i++)
      await send("/api/users/login", { body: body(`wrong ${i}`), ip: "192.0.2.151", env: limiters });
    const owners = await send("/api/users/login", { body: body(owner.password), ip: "198.51.100.151", env: limiters });
    expect(owners.response.status).toBe(200);
  });

  it("a looser ceiling per account still holds across addresses", async () => {
    const owner = await createUser();
    const limiters = strict("LOGIN_ACCOUNT_LIMITER");
    for (let i = 0; i < 3; i++) {
      expect((await attempt(owner.email, `wrong ${i}`, `192.0.2.${160 + i}`, limiters)).response.status).toBe(401);
    }
    const limited = await attempt(owner.email, "wrong 4", "192.0.2.170", limiters);
    await expectError(limited.response, 429, "RateLimitError");
  });
});

describe("7. only bookmarks the service issued are trusted", () => {
  const FORGED = `ffffffff-ffffffff-ffffffff-${"f".repeat(32)}`;

  it("a forged bookmark is neither echoed nor stored in a shared cache entry", async () => {
    const author = await createUser();
    const post = await createPost(author.access_token, { status: "published" });
    const read = await send(`/v1/posts/${post.id}`, { method: "GET", headers: { [BOOKMARK_HEADER]: FORGED } });
    expect(read.response.status).toBe(200);
    expect(read.response.headers.get(BOOKMARK_HEADER)).not.toBe(FORGED);
    const entries = await env.KV.list();
    const stored = await Promise.all(entries.keys.map((key) => env.KV.get(key.name)));
    expect(stored.filter((value) => value?.includes("ffffffff-ffffffff"))).toEqual([]);
  });

  it("a bookmark the service issued is honoured and handed back", async () => {
    const author = await createUser();
    const created = await api("/v1/posts", {
      method: "POST",
      token: author.access_token,
      body: { title: "t", content: "c" },
    });
    const issued = created.headers.get(BOOKMARK_HEADER) ?? "";
    const read = await api("/v1/users/me", { token: author.access_token, headers: { [BOOKMARK_HEADER]: issued } });
    expect(read.status).toBe(200);
    expect((read.headers.get(BOOKMARK_HEADER) ?? "") >= issued).toBe(true);
  });
});

describe("8. tags", () => {
  const tagsOf = async (slug: string) =>
    (await json<{ article: { tagList: string[] } }>(await conduit(`/articles/${slug}`))).article.tagList;

  it("NFC and NFD spellings are one tag", async () => {
    const author = await registerConduitUser();
    const base = uniqueTag("cafe");
    const nfc = `${base}-Caf\u00e9`;
    const nfd = `${base}-Cafe\u0301`;
    const first = await createArticle(author.token, { tagList: [nfc] });
    const second = await createArticle(author.token, { tagList: [nfd] });
    expect(await tagsOf(first.slug)).toEqual([nfc]);
    expect(await tagsOf(second.slug)).toEqual([nfc]);
    const rows = await env.DB.prepare("select count(*) as n from tags where name like ?")
      .bind(`${base}%`)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
    const byTag = await json<{ articlesCount: number }>(await conduit(`/articles?tag=${encodeURIComponent(nfd)}`));
    expect(byTag.articlesCount).toBe(2);
  });

  it.each([
    ["zero-width space", "dra\u200bgons"],
    ["bidi override", "abc\u202edef"],
    ["control character", "tab\u0009bed"],
  ])("a tag with a %s is a 422", async (_name, tag) => {
    const author = await registerConduitUser();
    const response = await conduit("/articles", {
      method: "POST",
      token: author.token,
      body: { article: { title: "t", description: "d", body: "b", tagList: [tag] } },
    });
    expect(response.status).toBe(422);
    expect(await response.json()).toEqual({
      errors: { body: ["article.tagList.0 must not contain invisible or control characters"] },
    });
  });

  it("tags no post uses any more are removed", async () => {
    const author = await registerConduitUser();
    const prefix = uniqueTag("edit");
    const article = await createArticle(author.token, { tagList: [`${prefix}-a`, `${prefix}-b`] });
    for (let round = 0; round < 5; round++) {
      const tagList = Array.from({ length: 10 }, (_, i) => `${prefix}-r${round}-${i}`);
      const edited = await conduit(`/articles/${article.slug}`, {
        method: "PUT",
        token: author.token,
        body: { article: { tagList } },
      });
      expect(edited.status).toBe(200);
    }
    const count = async () =>
      (
        await env.DB.prepare("select count(*) as n from tags where name like ?")
          .bind(`${prefix}%`)
          .first<{ n: number }>()
      )?.n;
    expect(await count()).toBe(10);
    const removed = await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token });
    expect(removed.status).toBeLessThan(300);
    // An archived post keeps its tags (its author still sees it through /v1); a hard delete drops them.
    const admin = await createUser();
    await env.DB.prepare("update users set role = 'admin' where id = ?").bind(admin.id).run();
    const adminToken = (await json<{ access_token: string }>(await login(admin.email, admin.password))).access_token;
    const post = await env.DB.prepare("select id from posts where slug = ?").bind(article.slug).first<{ id: string }>();
    expect((await api(`/v1/posts/${post?.id}`, { method: "DELETE", token: adminToken })).status).toBe(204);
    expect(await count()).toBe(0);
  });
});
