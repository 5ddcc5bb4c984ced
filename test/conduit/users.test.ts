import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { api, BASE, createAdmin, createUser, expectError, json } from "../helpers";
import {
  conduit,
  errorsOf,
  expectIssues,
  loginConduit,
  registerConduitUser,
  tokenIssuedAgo,
  type UserJson,
  uniqueConduitEmail,
  uniqueUsername,
} from "./helpers";

const PASSWORD = "correct horse battery";
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function register(user: Record<string, unknown>): Promise<Response> {
  return conduit("/users", { method: "POST", body: { user } });
}

function updateUser(token: string | undefined, user: Record<string, unknown>): Promise<Response> {
  return conduit("/user", { method: "PUT", token, body: { user } });
}

async function userOf(response: Response, status = 200): Promise<UserJson> {
  expect(response.status).toBe(status);
  const body = await json<{ user: UserJson }>(response);
  expect(Object.keys(body)).toEqual(["user"]);
  return body.user;
}

async function usersWithEmail(email: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from users where email = ?")
    .bind(email)
    .first<{ n: number }>();
  return row?.n ?? Number.NaN;
}

describe("POST /api/users", () => {
  it("registers: 201 with exactly {user:{email,token,username,bio,image}}, bio and image null", async () => {
    const username = uniqueUsername("Reg.User");
    const email = uniqueConduitEmail();
    const response = await register({ username, email, password: PASSWORD });
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const user = await userOf(response, 201);
    expect(user).toEqual({ email, token: expect.stringMatching(JWT), username, bio: null, image: null });
  });

  it("the token works on /api and /v1, and the /v1 name is the username", async () => {
    const username = uniqueUsername();
    const email = uniqueConduitEmail();
    const user = await userOf(await register({ username, email, password: PASSWORD }), 201);
    const current = await userOf(await conduit("/user", { token: user.token }));
    expect(current).toEqual({ email, token: user.token, username, bio: null, image: null });
    const me = await api("/v1/users/me", { token: user.token });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ email, name: username, role: "user", is_active: true });
  });

  it("normalises the email (trim, lower case) as /v1 does", async () => {
    const email = uniqueConduitEmail("Mixed.Case");
    const user = await userOf(
      await register({ username: uniqueUsername(), email: `  ${email.toUpperCase()} `, password: PASSWORD }),
      201,
    );
    expect(user.email).toBe(email.toLowerCase());
    expect(await usersWithEmail(email.toLowerCase())).toBe(1);
  });

  it("a username of 40 characters from [A-Za-z0-9_.-] is accepted", async () => {
    const username = `${uniqueUsername("A.b-C_")}${"x".repeat(40)}`.slice(0, 40);
    const user = await userOf(await register({ username, email: uniqueConduitEmail(), password: PASSWORD }), 201);
    expect(user.username).toBe(username);
  });

  it("a username shaped like an account id → 422: /v1 accounts without one are shown under their id", async () => {
    const v1 = await createUser();
    const response = await register({ username: v1.id, email: uniqueConduitEmail(), password: PASSWORD });
    expect(await errorsOf(response, 422)).toEqual(["user.username must not look like an account id"]);
    // The /v1 account is still the one its id names.
    const profile = await conduit(`/profiles/${v1.id}`);
    expect(((await profile.json()) as { profile: { username: string } }).profile.username).toBe(v1.id);
  });

  it("usernames made only of '.', '_' or '-' → 422 ('..' would be a dot segment in /api/profiles/..)", async () => {
    for (const username of [".", "..", "_-_"]) {
      const response = await register({ username, email: uniqueConduitEmail(), password: PASSWORD });
      expect(await errorsOf(response, 422)).toEqual(["user.username must be 1 to 40 letters, digits, '_', '.' or '-'"]);
    }
  });

  it("duplicate email (in any case) → 422 email has already been taken", async () => {
    const first = await registerConduitUser();
    const response = await register({
      username: uniqueUsername(),
      email: first.email.toUpperCase(),
      password: PASSWORD,
    });
    expect(await errorsOf(response, 422)).toEqual(["email has already been taken"]);
    expect(await usersWithEmail(first.email)).toBe(1);
  });

  it("duplicate username, case-insensitively → 422 username has already been taken", async () => {
    const first = await registerConduitUser({ username: uniqueUsername("Taken") });
    const email = uniqueConduitEmail();
    const response = await register({ username: first.username.toLowerCase(), email, password: PASSWORD });
    expect(await errorsOf(response, 422)).toEqual(["username has already been taken"]);
    expect(await usersWithEmail(email)).toBe(0);
  });

  it("an unknown field inside user → 422 naming it, and nothing is created (no mass assignment)", async () => {
    const email = uniqueConduitEmail();
    const response = await register({ username: uniqueUsername(), email, password: PASSWORD, role: "admin" });
    expect(await errorsOf(response, 422)).toEqual(["user.role Unknown field"]);
    expect(await usersWithEmail(email)).toBe(0);
  });

  it.each([
    ["missing username", { email: "ok@example.com", password: PASSWORD }, ["user.username"]],
    ["empty username", { username: "", email: "ok@example.com", password: PASSWORD }, ["user.username"]],
    [
      "username with a space",
      { username: "two words", email: "ok@example.com", password: PASSWORD },
      ["user.username"],
    ],
    ["username with a slash", { username: "a/b", email: "ok@example.com", password: PASSWORD }, ["user.username"]],
    [
      "username of 41 characters",
      { username: "u".repeat(41), email: "ok@example.com", password: PASSWORD },
      ["user.username"],
    ],
    ["invalid email", { username: "someone", email: "not-an-email", password: PASSWORD }, ["user.email"]],
    ["missing email", { username: "someone", password: PASSWORD }, ["user.email"]],
    [
      "password of 7 characters",
      { username: "someone", email: "ok@example.com", password: "1234567" },
      ["user.password"],
    ],
    [
      "password of 129 characters",
      { username: "someone", email: "ok@example.com", password: "p".repeat(129) },
      ["user.password"],
    ],
    [
      "all three wrong",
      { username: "", email: "nope", password: "short" },
      ["user.username", "user.email", "user.password"],
    ],
  ])("%s → 422 naming %j", async (_name, user, paths) => {
    const messages = await expectIssues(await register(user), paths);
    expect(messages.length).toBeGreaterThanOrEqual(paths.length);
  });

  it("the email in the 422 is the issue's path: user.email must be an email address", async () => {
    const messages = await errorsOf(await register({ username: "someone", email: "bad", password: PASSWORD }), 422);
    expect(messages).toEqual(["user.email must be an email address"]);
  });

  it("a body without the user envelope → 422", async () => {
    const response = await conduit("/users", {
      method: "POST",
      body: { username: uniqueUsername(), email: uniqueConduitEmail(), password: PASSWORD },
    });
    const messages = await errorsOf(response, 422);
    expect(messages.some((message) => message.startsWith("user "))).toBe(true);
  });
});

describe("POST /api/users/login", () => {
  it("200 with the user and a fresh token that works", async () => {
    const registered = await registerConduitUser();
    const response = await loginConduit(registered.email, registered.password);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const user = await userOf(response);
    expect(user).toEqual({
      email: registered.email,
      token: expect.stringMatching(JWT),
      username: registered.username,
      bio: null,
      image: null,
    });
    expect((await conduit("/user", { token: user.token })).status).toBe(200);
  });

  it("the email is matched after trimming and lower-casing", async () => {
    const registered = await registerConduitUser();
    const user = await userOf(await loginConduit(` ${registered.email.toUpperCase()} `, registered.password));
    expect(user.username).toBe(registered.username);
  });

  it("wrong password and unknown email → the same 401", async () => {
    const registered = await registerConduitUser();
    const wrong = await errorsOf(await loginConduit(registered.email, "not the password"), 401);
    const unknown = await errorsOf(await loginConduit(uniqueConduitEmail(), "not the password"), 401);
    expect(wrong).toEqual(["Invalid email or password"]);
    expect(unknown).toEqual(["Invalid email or password"]);
  });

  it("a deactivated account cannot log in (401)", async () => {
    const registered = await registerConduitUser();
    const admin = await createAdmin();
    const patched = await api(`/v1/users/${registered.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { is_active: false },
    });
    expect(patched.status).toBe(200);
    expect(await errorsOf(await loginConduit(registered.email, registered.password), 401)).toEqual([
      "Invalid email or password",
    ]);
  });

  it("missing password, unknown field → 422 naming them", async () => {
    await expectIssues(await conduit("/users/login", { method: "POST", body: { user: { email: "a@example.com" } } }), [
      "user.password",
    ]);
    const unknown = await conduit("/users/login", {
      method: "POST",
      body: { user: { email: "a@example.com", password: PASSWORD, remember: true } },
    });
    expect(await errorsOf(unknown, 422)).toEqual(["user.remember Unknown field"]);
  });
});

describe("GET /api/user", () => {
  it("echoes the token the request carried, with Token or Bearer", async () => {
    const registered = await registerConduitUser();
    for (const scheme of ["Token", "Bearer"] as const) {
      const response = await conduit("/user", { token: registered.token, scheme });
      expect(response.headers.get("Cache-Control")).toBe("private, no-store");
      expect(await userOf(response)).toEqual({
        email: registered.email,
        token: registered.token,
        username: registered.username,
        bio: null,
        image: null,
      });
    }
  });

  it("no Authorization header → 401", async () => {
    await errorsOf(await conduit("/user"), 401);
  });

  it.each([
    ["a token that is not a JWT", "Token not-a-jwt"],
    ["an empty Token header", "Token "],
    ["a Basic header", "Basic dXNlcjpwYXNz"],
    ["a JWT with a bad signature", "Token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"],
  ])("%s → 401", async (_name, header) => {
    await errorsOf(await conduit("/user", { headers: { Authorization: header } }), 401);
  });

  it("an expired token → 401", async () => {
    const registered = await registerConduitUser();
    // An /api token lives CONDUIT_TOKEN_TTL_DAYS (30 by default): one from 31 days ago is expired.
    const expired = await tokenIssuedAgo(registered, 31 * 24 * 60 * 60);
    await errorsOf(await conduit("/user", { token: expired }), 401);
  });
});

describe("PUT /api/user", () => {
  it('an empty bio is a bio (a settings form sends ""); a bio of spaces only is not', async () => {
    const registered = await registerConduitUser();
    expect((await userOf(await updateUser(registered.token, { bio: "" }))).bio).toBe("");
    expect(await errorsOf(await updateUser(registered.token, { bio: "   " }), 422)).toEqual([
      "user.bio must not be blank",
    ]);
  });

  it("a new password or email needs a token from the last 5 minutes; bio, image, username and the same email do not", async () => {
    const registered = await registerConduitUser();
    const older = await tokenIssuedAgo(registered, 6 * 60);
    const again = ["Sign in again to change your password or email"];
    expect(await errorsOf(await updateUser(older, { password: "a brand new password" }), 401)).toEqual(again);
    expect(await errorsOf(await updateUser(older, { email: uniqueConduitEmail() }), 401)).toEqual(again);
    // Nothing changed: the original password still logs in, the email is the same.
    expect((await loginConduit(registered.email, registered.password)).status).toBe(200);
    const fine = await userOf(await updateUser(older, { bio: "still me", email: registered.email }));
    expect([fine.bio, fine.email]).toEqual(["still me", registered.email]);
    const fresh = await tokenIssuedAgo(registered, 4 * 60);
    expect((await updateUser(fresh, { password: "a brand new password" })).status).toBe(200);
  });

  it("sets bio and image, and null clears them", async () => {
    const registered = await registerConduitUser();
    const set = await userOf(
      await updateUser(registered.token, { bio: "I write things", image: "https://example.com/me.png" }),
    );
    expect(set).toEqual({
      email: registered.email,
      token: expect.stringMatching(JWT),
      username: registered.username,
      bio: "I write things",
      image: "https://example.com/me.png",
    });
    expect((await conduit("/user", { token: set.token })).status).toBe(200);
    expect(await userOf(await conduit("/user", { token: registered.token }))).toMatchObject({
      bio: "I write things",
      image: "https://example.com/me.png",
    });
    const cleared = await userOf(await updateUser(registered.token, { bio: null, image: null }));
    expect(cleared).toMatchObject({ bio: null, image: null });
    const profile = await conduit(`/profiles/${registered.username}`);
    expect(await profile.json()).toEqual({
      profile: { username: registered.username, bio: null, image: null, following: false },
    });
  });

  it("changes the email (normalised); login works with the new one only", async () => {
    const registered = await registerConduitUser();
    const email = uniqueConduitEmail("New.Mail");
    const user = await userOf(await updateUser(registered.token, { email: ` ${email.toUpperCase()}` }));
    expect(user.email).toBe(email.toLowerCase());
    expect((await loginConduit(email.toLowerCase(), registered.password)).status).toBe(200);
    await errorsOf(await loginConduit(registered.email, registered.password), 401);
  });

  it("changes the username: the profile moves, the old name is 404", async () => {
    const registered = await registerConduitUser();
    const username = uniqueUsername("renamed");
    const user = await userOf(await updateUser(registered.token, { username }));
    expect(user.username).toBe(username);
    expect((await conduit(`/profiles/${username}`)).status).toBe(200);
    await errorsOf(await conduit(`/profiles/${registered.username}`), 404);
    expect(await userOf(await conduit("/user", { token: registered.token }))).toMatchObject({ username });
  });

  it("a password change: new token in the response works, the old token is 401, old password 401", async () => {
    const registered = await registerConduitUser();
    const user = await userOf(await updateUser(registered.token, { password: "a brand new password" }));
    expect(user.token).toMatch(JWT);
    expect(user.token).not.toBe(registered.token);
    await errorsOf(await conduit("/user", { token: registered.token }), 401);
    expect(await userOf(await conduit("/user", { token: user.token }))).toMatchObject({
      username: registered.username,
      token: user.token,
    });
    await errorsOf(await loginConduit(registered.email, registered.password), 401);
    expect((await loginConduit(registered.email, "a brand new password")).status).toBe(200);
  });

  it("another user's email → 422 email has already been taken", async () => {
    const [a, b] = [await registerConduitUser(), await registerConduitUser()];
    expect(await errorsOf(await updateUser(b.token, { email: a.email.toUpperCase() }), 422)).toEqual([
      "email has already been taken",
    ]);
    expect(await userOf(await conduit("/user", { token: b.token }))).toMatchObject({ email: b.email });
  });

  it("another user's username, case-insensitively → 422 username has already been taken", async () => {
    const [a, b] = [await registerConduitUser({ username: uniqueUsername("Upper") }), await registerConduitUser()];
    expect(await errorsOf(await updateUser(b.token, { username: a.username.toLowerCase() }), 422)).toEqual([
      "username has already been taken",
    ]);
    expect(await userOf(await conduit("/user", { token: b.token }))).toMatchObject({ username: b.username });
  });

  it("an unknown field → 422 naming it, and the role is unchanged", async () => {
    const registered = await registerConduitUser();
    expect(await errorsOf(await updateUser(registered.token, { bio: "x", role: "admin" }), 422)).toEqual([
      "user.role Unknown field",
    ]);
    // Alone, the unknown field may also count as "no change"; it must still be named.
    expect(await errorsOf(await updateUser(registered.token, { role: "admin" }), 422)).toContain(
      "user.role Unknown field",
    );
    const row = await env.DB.prepare("select role from users where id = ?")
      .bind(registered.id)
      .first<{ role: string }>();
    expect(row?.role).toBe("user");
  });

  it("no field at all, a bad email, a short password, a bad username → 422", async () => {
    const registered = await registerConduitUser();
    await errorsOf(await updateUser(registered.token, {}), 422);
    await expectIssues(await updateUser(registered.token, { email: "nope" }), ["user.email"]);
    await expectIssues(await updateUser(registered.token, { password: "short" }), ["user.password"]);
    await expectIssues(await updateUser(registered.token, { username: "has space" }), ["user.username"]);
    expect(await userOf(await conduit("/user", { token: registered.token }))).toMatchObject({
      email: registered.email,
      username: registered.username,
    });
  });

  it("without a token → 401", async () => {
    await errorsOf(await updateUser(undefined, { bio: "x" }), 401);
  });
});

describe("the /api error envelope (never /v1's)", () => {
  it("an unknown /api route → 404 in the Conduit shape", async () => {
    await errorsOf(await conduit("/no-such-thing"), 404);
    await errorsOf(await conduit("/articles/some-slug/unknown"), 404);
  });

  it("a known path with a wrong method → 405 with Allow, Conduit shape", async () => {
    const response = await conduit("/articles", { method: "PATCH", body: {} });
    const allow = response.headers.get("Allow") ?? "";
    await errorsOf(response, 405);
    expect(allow.split(/,\s*/)).toEqual(expect.arrayContaining(["GET", "POST"]));
    expect(allow).not.toContain("PATCH");
  });

  it("a non-JSON body → 415, Conduit shape", async () => {
    const response = await conduit("/users", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: "user=someone",
    });
    await errorsOf(response, 415);
  });

  it("malformed JSON → a 4xx in the Conduit shape", async () => {
    const response = await conduit("/users", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"user": {',
    });
    expect([400, 422]).toContain(response.status);
    await errorsOf(response, response.status);
  });

  it("a body over the limit → 413, Conduit shape (64 KiB for users, 640 KiB for articles)", async () => {
    const big = await conduit("/users", {
      method: "POST",
      body: { user: { username: "big", email: "big@example.com", password: "p".repeat(100 * 1024) } },
    });
    await errorsOf(big, 413);
    const registered = await registerConduitUser();
    const response = await conduit("/articles", {
      method: "POST",
      token: registered.token,
      body: { article: { title: "Big", description: "d", body: "x".repeat(700 * 1024) } },
    });
    await errorsOf(response, 413);
  });

  it("the 4th registration from one IP → 429 with Retry-After, Conduit shape", async () => {
    const ip = "203.0.113.91";
    const send = (n: number) =>
      app.fetch(
        new Request(`${BASE}/api/users`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
          body: JSON.stringify({
            user: { username: uniqueUsername(`rl${n}`), email: uniqueConduitEmail(), password: PASSWORD },
          }),
        }),
        { ...env, REGISTER_IP_LIMITER: env.TEST_STRICT_LIMITER },
        createExecutionContext(),
      );
    for (let i = 0; i < 3; i++) expect((await send(i)).status).toBe(201);
    const limited = await send(3);
    expect(limited.headers.get("Retry-After")).toMatch(/^\d+$/);
    await errorsOf(limited, 429);
  });

  it("every error above carries X-Request-Id; /v1 keeps its own envelope", async () => {
    const response = await conduit("/user", { headers: { "X-Request-Id": "conduit-req-1" } });
    expect(response.headers.get("X-Request-Id")).toBe("conduit-req-1");
    await errorsOf(response, 401);
    await expectError(await api("/v1/no-such-thing"), 404, "NotFoundError");
  });
});
