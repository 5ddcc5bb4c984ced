import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { PBKDF2_ITERATIONS, verifyPassword } from "../src/auth/password";
import {
  base64Url,
  expectTokenPair,
  expectUnauthorized,
  INVALID_CREDENTIALS,
  legacyHash,
  type TokenPair,
} from "./auth-helpers";
import { api, createAdmin, createUser, expectError, json, login, uniqueEmail } from "./helpers";

type RefreshTokenRow = {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  rotated_at: string | null;
  revoked_at: string | null;
};

const PASSWORD = "correct horse battery";
const INVALID_REFRESH_TOKEN = "Invalid or expired refresh token";

function register(body: unknown): Promise<Response> {
  return api("/v1/auth/register", { method: "POST", body });
}

function refresh(refreshToken: string): Promise<Response> {
  return api("/v1/auth/refresh", { method: "POST", body: { refresh_token: refreshToken } });
}

function logout(accessToken: string | undefined, refreshToken: string): Promise<Response> {
  return api("/v1/auth/logout", { method: "POST", token: accessToken, body: { refresh_token: refreshToken } });
}

function me(accessToken: string): Promise<Response> {
  return api("/v1/users/me", { token: accessToken });
}

/** A 400 whose issues name exactly these paths (messages are zod's, so only their presence is checked). */
async function expectValidation(response: Response, paths: string[]): Promise<void> {
  const body = await expectError(response, 400, "ValidationError");
  expect(body.details).toEqual({ issues: paths.map((path) => ({ path, message: expect.any(String) })) });
}

async function refreshTokenRows(userId: string): Promise<RefreshTokenRow[]> {
  const { results } = await env.DB.prepare("select * from refresh_tokens where user_id = ? order by created_at, id")
    .bind(userId)
    .all<RefreshTokenRow>();
  return results;
}

async function deactivateAsAdmin(userId: string): Promise<void> {
  const admin = await createAdmin();
  const response = await api(`/v1/users/${userId}`, {
    method: "PATCH",
    token: admin.access_token,
    body: { is_active: false },
  });
  expect(response.status).toBe(200);
}

describe("POST /v1/auth/register", () => {
  it("creates a user and returns the token pair", async () => {
    const email = uniqueEmail("register");
    const response = await register({ email, name: "Ada", password: PASSWORD });
    const body = await expectTokenPair(response, 201);
    expect(body.user).toEqual({
      id: expect.any(String),
      email,
      name: "Ada",
      role: "user",
      is_active: true,
      email_verified: false,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(new Date(body.user.created_at).toISOString()).toBe(body.user.created_at);
    const profile = await me(body.access_token);
    expect(profile.status).toBe(200);
    expect(await json(profile)).toEqual(body.user);
    expect((await refresh(body.refresh_token)).status).toBe(200);
  });

  it("trims and lower-cases the email before storing it", async () => {
    const email = uniqueEmail("case");
    const response = await register({ email: `  ${email.toUpperCase()}\t`, name: "Ada", password: PASSWORD });
    const body = await expectTokenPair(response, 201);
    expect(body.user.email).toBe(email);
    const row = await env.DB.prepare("select email from users where id = ?")
      .bind(body.user.id)
      .first<{ email: string }>();
    expect(row?.email).toBe(email);
    expect((await login(email, PASSWORD)).status).toBe(200);
  });

  it.each([["role"], ["is_active"], ["id"], ["password_hash"]])(
    "refuses the unknown field %s (no mass assignment) and creates nothing",
    async (field) => {
      const email = uniqueEmail("mass");
      const response = await register({ email, name: "Mallory", password: PASSWORD, [field]: "admin" });
      const body = await expectError(response, 400, "ValidationError");
      expect(body.error).toBe(`Invalid body: ${field}`);
      expect(body.details).toEqual({ issues: [{ path: field, message: "Unknown field" }] });
      const row = await env.DB.prepare("select id from users where email = ?").bind(email).first();
      expect(row).toBeNull();
    },
  );

  it("refuses an unknown nested object carrying a role", async () => {
    const response = await register({ user: { role: "admin" }, email: uniqueEmail(), name: "M", password: PASSWORD });
    await expectValidation(response, ["user"]);
  });

  it("names every missing field", async () => {
    await expectValidation(await register({}), ["email", "name", "password"]);
  });

  it.each([
    ["not an email", { email: "not-an-email", name: "Ada", password: PASSWORD }, ["email"]],
    [
      "an email that is too long",
      { email: `${"a".repeat(250)}@example.com`, name: "Ada", password: PASSWORD },
      ["email"],
    ],
    ["a blank name", { email: "blank-name@example.com", name: "   ", password: PASSWORD }, ["name"]],
    [
      "a name over 100 characters",
      { email: "long-name@example.com", name: "n".repeat(101), password: PASSWORD },
      ["name"],
    ],
    ["a non-string password", { email: "num-pw@example.com", name: "Ada", password: 12345678 }, ["password"]],
  ])("refuses %s", async (_label, body, paths) => {
    await expectValidation(await register(body), paths);
  });

  it("refuses a body that is not a JSON object", async () => {
    await expectValidation(await register([]), [""]);
    const malformed = await api("/v1/auth/register", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"email":',
    });
    const body = await expectError(malformed, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "", message: "Body is not valid JSON" }] });
    const form = await api("/v1/auth/register", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "email=a%40b.c&name=A&password=12345678",
    });
    await expectError(form, 415, "UnsupportedMediaTypeError");
  });

  it("accepts passwords of exactly 8 and 128 characters", async () => {
    for (const password of ["p".repeat(8), "p".repeat(128)]) {
      const email = uniqueEmail("bounds");
      await expectTokenPair(await register({ email, name: "Ada", password }), 201);
      expect((await login(email, password)).status).toBe(200);
    }
  });

  it("refuses passwords of 7 and 129 characters", async () => {
    for (const password of ["p".repeat(7), "p".repeat(129)]) {
      const email = uniqueEmail("bounds");
      await expectValidation(await register({ email, name: "Ada", password }), ["password"]);
      const row = await env.DB.prepare("select id from users where email = ?").bind(email).first();
      expect(row).toBeNull();
    }
  });

  it.each([
    ["the same email", (email: string) => email],
    ["the email upper-cased", (email: string) => email.toUpperCase()],
    ["the email with surrounding whitespace", (email: string) => `  ${email} `],
    ["the email mixed-case and padded", (email: string) => ` ${email.charAt(0).toUpperCase()}${email.slice(1)}\n`],
  ])("answers 409 for %s", async (_label, variant) => {
    const original = await createUser();
    const response = await register({ email: variant(original.email), name: "Copy", password: "another password" });
    const body = await expectError(response, 409, "ConflictError");
    expect(body.error).toBe("An account with this email already exists");
    expect(body.details).toEqual({ field: "email" });
    const count = await env.DB.prepare("select count(*) as n from users where email = ?")
      .bind(original.email)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
    // The original account is untouched: its password still works, the attacker's does not.
    expect((await login(original.email, original.password)).status).toBe(200);
    await expectUnauthorized(await login(original.email, "another password"), INVALID_CREDENTIALS);
  });

  it("pins PBKDF2 iterations at the most production workerd allows", () => {
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000);
    expect(PBKDF2_ITERATIONS).toBe(100_000);
  });

  it("stores the refresh token only as a hash", async () => {
    const session = await createUser();
    const rows = await refreshTokenRows(session.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).toMatch(/^[0-9a-f]{64}$/);
    const { results } = await env.DB.prepare("select * from refresh_tokens").all<RefreshTokenRow>();
    expect(results.length).toBeGreaterThan(0);
    expect(JSON.stringify(results)).not.toContain(session.refresh_token);
  });
});

describe("POST /v1/auth/login", () => {
  it("returns the same shape as register", async () => {
    const session = await createUser({ name: "Grace" });
    const body = await expectTokenPair(await login(session.email, session.password), 200);
    expect(body.user).toEqual(session.user);
    expect(body.refresh_token).not.toBe(session.refresh_token);
    expect(body.access_token).not.toBe(session.access_token);
    expect((await me(body.access_token)).status).toBe(200);
    expect((await refresh(body.refresh_token)).status).toBe(200);
  });

  it.each([
    ["upper-cased", (email: string) => email.toUpperCase()],
    ["padded with whitespace", (email: string) => `\t ${email}  `],
  ])("accepts the email %s", async (_label, variant) => {
    const session = await createUser();
    const body = await expectTokenPair(await login(variant(session.email), session.password), 200);
    expect(body.user.id).toBe(session.id);
  });

  it("answers a wrong password and an unknown email identically", async () => {
    const session = await createUser();
    const wrong = await login(session.email, "wrong password!");
    const unknown = await login(uniqueEmail("nobody"), session.password);
    for (const response of [wrong, unknown]) {
      expect(response.headers.get("WWW-Authenticate")).toBe(wrong.headers.get("WWW-Authenticate"));
    }
    const [wrongBody, unknownBody] = await Promise.all([
      expectError(wrong, 401, "AuthenticationError"),
      expectError(unknown, 401, "AuthenticationError"),
    ]);
    expect(wrong.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
    const { request_id: _wrongId, ...wrongRest } = wrongBody;
    const { request_id: _unknownId, ...unknownRest } = unknownBody;
    expect(wrongRest).toEqual({ error: INVALID_CREDENTIALS, type: "AuthenticationError", details: {} });
    expect(unknownRest).toEqual(wrongRest);
  });

  it("does not apply the sign-up password policy: a short wrong password is a 401, not a 400", async () => {
    const session = await createUser();
    await expectUnauthorized(await login(session.email, "short"), INVALID_CREDENTIALS);
  });

  it.each([
    ["missing fields", {}, ["email", "password"]],
    ["an invalid email", { email: "nope", password: PASSWORD }, ["email"]],
    ["an empty password", { email: "a@example.com", password: "" }, ["password"]],
    ["a password over 128 characters", { email: "a@example.com", password: "p".repeat(129) }, ["password"]],
  ])("refuses %s", async (_label, body, paths) => {
    await expectValidation(await api("/v1/auth/login", { method: "POST", body }), paths);
  });

  it("refuses unknown fields", async () => {
    const session = await createUser();
    const response = await api("/v1/auth/login", {
      method: "POST",
      body: { email: session.email, password: session.password, role: "admin" },
    });
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "role", message: "Unknown field" }] });
  });

  it("refuses a deactivated user with the same 401", async () => {
    const session = await createUser();
    await deactivateAsAdmin(session.id);
    await expectUnauthorized(await login(session.email, session.password), INVALID_CREDENTIALS);
  });

  it("does not accept a stored hash above the iteration cap", async () => {
    const session = await createUser();
    const tooCostly = await legacyHash(session.password, 100_001);
    expect(await verifyPassword(session.password, tooCostly)).toBe(false);
    expect(await verifyPassword(session.password, "plaintext")).toBe(false);
    expect(await verifyPassword(session.password, session.password)).toBe(false);
  });
});

describe("POST /v1/auth/refresh", () => {
  it("rotates: a new pair, and the old refresh token no longer works", async () => {
    const session = await createUser();
    const body = await expectTokenPair(await refresh(session.refresh_token), 200);
    expect(body.user).toEqual(session.user);
    expect(body.refresh_token).not.toBe(session.refresh_token);
    expect(body.access_token).not.toBe(session.access_token);
    expect((await me(body.access_token)).status).toBe(200);
    await expectUnauthorized(await refresh(session.refresh_token), INVALID_REFRESH_TOKEN);
  });

  it("detects reuse: replaying a rotated token revokes the newest token of that family too", async () => {
    const session = await createUser();
    const second = await json<TokenPair>(await refresh(session.refresh_token));
    const third = await json<TokenPair>(await refresh(second.refresh_token));
    const otherSession = await json<TokenPair>(await login(session.email, session.password));

    await expectUnauthorized(await refresh(session.refresh_token), INVALID_REFRESH_TOKEN);
    await expectUnauthorized(await refresh(third.refresh_token), INVALID_REFRESH_TOKEN);
    await expectUnauthorized(await refresh(second.refresh_token), INVALID_REFRESH_TOKEN);

    const rows = await refreshTokenRows(session.id);
    const family = rows.filter((row) => row.family_id === rows[0]?.family_id);
    expect(family).toHaveLength(3);
    for (const row of family) expect(row.revoked_at).not.toBeNull();
    // Another login is another family and survives.
    expect((await refresh(otherSession.refresh_token)).status).toBe(200);
  });

  it("never lets two concurrent refreshes with the same token both succeed", async () => {
    const session = await createUser();
    const responses = await Promise.all([refresh(session.refresh_token), refresh(session.refresh_token)]);
    const statuses = responses.map((response) => response.status).sort();
    expect([
      [200, 401],
      [401, 401],
    ]).toContainEqual(statuses);
    for (const response of responses) {
      if (response.status === 401) await expectUnauthorized(response, INVALID_REFRESH_TOKEN);
      else await response.body?.cancel();
    }
  });

  it("leaves no working token in a family after a concurrent replay", async () => {
    // Several sessions at once, so the interleaving where the loser revokes the family before
    // the winner has stored its new token actually happens.
    const sessions = await Promise.all(Array.from({ length: 10 }, () => createUser()));
    const outcomes = await Promise.all(
      sessions.map(async (session) => {
        const responses = await Promise.all([refresh(session.refresh_token), refresh(session.refresh_token)]);
        const issued: string[] = [];
        for (const response of responses) {
          if (response.status === 200) issued.push((await json<TokenPair>(response)).refresh_token);
          else await expectUnauthorized(response, INVALID_REFRESH_TOKEN);
        }
        expect(issued.length).toBeLessThanOrEqual(1);
        // The loser presented an already-rotated token: reuse detection must end the whole
        // family, including any token the winner was given.
        const stillWorking = await Promise.all(issued.map(async (token) => (await refresh(token)).status === 200));
        const live = await env.DB.prepare(
          "select count(*) as n from refresh_tokens where user_id = ? and revoked_at is null",
        )
          .bind(session.id)
          .first<{ n: number }>();
        return { stillWorking: stillWorking.filter(Boolean).length, unrevokedRows: live?.n };
      }),
    );
    expect(outcomes).toEqual(sessions.map(() => ({ stillWorking: 0, unrevokedRows: 0 })));
  });

  it("refuses an unknown token and an expired token", async () => {
    await expectUnauthorized(
      await refresh(base64Url(crypto.getRandomValues(new Uint8Array(32)))),
      INVALID_REFRESH_TOKEN,
    );
    const session = await createUser();
    await env.DB.prepare("update refresh_tokens set expires_at = ? where user_id = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), session.id)
      .run();
    await expectUnauthorized(await refresh(session.refresh_token), INVALID_REFRESH_TOKEN);
  });

  it("refuses a deactivated user (deactivated by an admin)", async () => {
    const session = await createUser();
    await deactivateAsAdmin(session.id);
    await expectUnauthorized(await refresh(session.refresh_token), INVALID_REFRESH_TOKEN);
  });

  it("refuses a deactivated user even when the refresh token itself was not revoked", async () => {
    const session = await createUser();
    await env.DB.prepare("update users set is_active = 0 where id = ?").bind(session.id).run();
    await expectUnauthorized(await refresh(session.refresh_token), INVALID_REFRESH_TOKEN);
    // Reactivating does not bring that session back.
    await env.DB.prepare("update users set is_active = 1 where id = ?").bind(session.id).run();
    await expectUnauthorized(await refresh(session.refresh_token), INVALID_REFRESH_TOKEN);
  });

  it("issues the access token with the user's current role", async () => {
    const session = await createUser();
    await env.DB.prepare("update users set role = 'guest' where id = ?").bind(session.id).run();
    const body = await expectTokenPair(await refresh(session.refresh_token), 200);
    expect(body.user.role).toBe("guest");
    expect(decodeJwt(body.access_token).role).toBe("guest");
  });

  it.each([
    ["a missing token", {}, ["refresh_token"]],
    ["an empty token", { refresh_token: "" }, ["refresh_token"]],
    ["a non-string token", { refresh_token: 42 }, ["refresh_token"]],
    ["an oversized token", { refresh_token: "r".repeat(513) }, ["refresh_token"]],
  ])("refuses %s", async (_label, body, paths) => {
    await expectValidation(await api("/v1/auth/refresh", { method: "POST", body }), paths);
  });

  it("refuses unknown fields", async () => {
    const session = await createUser();
    const response = await api("/v1/auth/refresh", {
      method: "POST",
      body: { refresh_token: session.refresh_token, user_id: "someone-else" },
    });
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "user_id", message: "Unknown field" }] });
    // The refused request did not consume the token.
    expect((await refresh(session.refresh_token)).status).toBe(200);
  });
});

describe("POST /v1/auth/logout", () => {
  it("answers 204 and that refresh token no longer works", async () => {
    const session = await createUser();
    const response = await logout(session.access_token, session.refresh_token);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    await expectUnauthorized(await refresh(session.refresh_token), INVALID_REFRESH_TOKEN);
  });

  it("ends the session's rotated successor too, but not another session", async () => {
    const session = await createUser();
    const rotated = await json<TokenPair>(await refresh(session.refresh_token));
    const other = await json<TokenPair>(await login(session.email, session.password));
    expect((await logout(rotated.access_token, rotated.refresh_token)).status).toBe(204);
    await expectUnauthorized(await refresh(rotated.refresh_token), INVALID_REFRESH_TOKEN);
    expect((await refresh(other.refresh_token)).status).toBe(200);
  });

  it("requires a bearer token", async () => {
    const session = await createUser();
    await expectUnauthorized(await logout(undefined, session.refresh_token), "Authentication required");
    expect((await refresh(session.refresh_token)).status).toBe(200);
  });

  it("refuses an invalid bearer token", async () => {
    const session = await createUser();
    await expectUnauthorized(await logout("not-a-jwt", session.refresh_token), "Invalid access token");
    expect((await refresh(session.refresh_token)).status).toBe(200);
  });

  it("cannot end another user's session, and does not say so", async () => {
    const victim = await createUser();
    const attacker = await createUser();
    const response = await logout(attacker.access_token, victim.refresh_token);
    expect(response.status).toBe(204);
    expect((await refresh(victim.refresh_token)).status).toBe(200);
  });

  it("answers 204 for an unknown refresh token", async () => {
    const session = await createUser();
    expect((await logout(session.access_token, "never-issued")).status).toBe(204);
    expect((await refresh(session.refresh_token)).status).toBe(200);
  });

  it.each([
    ["a missing token", {}, ["refresh_token"]],
    ["an empty token", { refresh_token: "" }, ["refresh_token"]],
  ])("refuses %s", async (_label, body, paths) => {
    const session = await createUser();
    await expectValidation(await api("/v1/auth/logout", { method: "POST", token: session.access_token, body }), paths);
  });

  it("refuses unknown fields", async () => {
    const session = await createUser();
    const response = await api("/v1/auth/logout", {
      method: "POST",
      token: session.access_token,
      body: { refresh_token: session.refresh_token, all: true },
    });
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "all", message: "Unknown field" }] });
    expect((await refresh(session.refresh_token)).status).toBe(200);
  });
});
