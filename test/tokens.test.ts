import { env } from "cloudflare:workers";
import {
  base64url,
  decodeJwt,
  errors,
  generateKeyPair,
  type JWTHeaderParameters,
  type JWTPayload,
  jwtVerify,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../src/auth/access-token";
import { loadSettings, type Settings } from "../src/config";
import { expectUnauthorized } from "./auth-helpers";
import { api, createAdmin, createUser, expectError, json, login, type Session } from "./helpers";

/** The secret vitest.config.ts gives the Worker; only ever used by the test runtime. */
const TEST_SECRET = new TextEncoder().encode("test-secret-for-vitest-only-0123456789abcdef");
const ISSUER = "edge-posts-api";
const AUDIENCE = "edge-posts-api";
const MAX_TOKEN_LENGTH = 4096;

const INVALID = "Invalid access token";
const EXPIRED = "Access token expired";
const REVOKED = "Access token has been revoked";

type ForgeOptions = {
  header?: JWTHeaderParameters;
  claims?: JWTPayload;
  omit?: string[];
  key?: Uint8Array | CryptoKey;
};

/**
 * Signs a token exactly like the server's unless told otherwise, so each attack below differs
 * from a token the server accepts in one respect only.
 */
async function forge(sub: string, options: ForgeOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const all: JWTPayload = {
    sub,
    role: "user",
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    // A password sign-in at the token's issue time, as at login.
    auth_time: options.claims?.iat ?? now,
    // Signed under the account's first session version, as a fresh account's tokens are.
    sv: 0,
    exp: now + 600,
    jti: crypto.randomUUID(),
    ...options.claims,
  };
  const omit = new Set(options.omit ?? []);
  const claims = Object.fromEntries(Object.entries(all).filter(([name]) => !omit.has(name)));
  return new SignJWT(claims)
    .setProtectedHeader(options.header ?? { alg: "HS256", typ: "at+jwt" })
    .sign(options.key ?? TEST_SECRET);
}

const encodeJson = (value: unknown) => base64url.encode(JSON.stringify(value));

/** Claims exactly as the server signs them (a fresh account's first session version), for hand-made tokens. */
function honestClaims(sub: string, overrides: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    sub,
    role: "user",
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now,
    auth_time: now,
    sv: 0,
    exp: now + 600,
    ...overrides,
  };
}

/** Replaces the header and/or payload of a signed token while keeping its signature. */
function tamper(token: string, change: { header?: Record<string, unknown>; payload?: Record<string, unknown> }) {
  const [header = "", payload = "", signature = ""] = token.split(".");
  const newHeader = change.header ? encodeJson(change.header) : header;
  const newPayload = change.payload ? encodeJson({ ...decodeJwt(token), ...change.payload }) : payload;
  return `${newHeader}.${newPayload}.${signature}`;
}

/** Two segments, whatever they hold, with a real HS256 MAC under the right secret. */
async function hmacOver(header: string, payload: string): Promise<string> {
  const signingInput = `${header}.${payload}`;
  const key = await crypto.subtle.importKey("raw", TEST_SECRET, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(signingInput));
  return `${signingInput}.${base64url.encode(new Uint8Array(mac))}`;
}

/** A token whose signature is a real HS256 MAC under the right secret, whatever the header says. */
function hmacWithHeader(header: Record<string, unknown>, payload: JWTPayload): Promise<string> {
  return hmacOver(encodeJson(header), encodeJson(payload));
}

function me(init: { token?: string; authorization?: string }): Promise<Response> {
  const headers = init.authorization === undefined ? undefined : { Authorization: init.authorization };
  return api("/v1/users/me", { token: init.token, headers });
}

async function expectMe(response: Response, userId: string, role = "user"): Promise<void> {
  expect(response.status).toBe(200);
  const body = await json<{ id: string; role: string }>(response);
  expect(body.id).toBe(userId);
  expect(body.role).toBe(role);
}

async function freshLogin(session: Session, password = session.password): Promise<string> {
  const response = await login(session.email, password);
  expect(response.status).toBe(200);
  return (await json<{ access_token: string }>(response)).access_token;
}

function refresh(refreshToken: string): Promise<Response> {
  return api("/v1/auth/refresh", { method: "POST", body: { refresh_token: refreshToken } });
}

async function adminPatch(admin: Session, userId: string, body: Record<string, unknown>): Promise<void> {
  const response = await api(`/v1/users/${userId}`, { method: "PATCH", token: admin.access_token, body });
  expect(response.status).toBe(200);
}

describe("access token attacks on GET /v1/users/me", () => {
  it("accepts a token forged with the test secret and the server's parameters (the baseline)", async () => {
    const user = await createUser();
    await expectMe(await me({ token: await forge(user.id) }), user.id);
    // RFC 9068's long form of the same media type is the same typ.
    const longTyp = await forge(user.id, { header: { alg: "HS256", typ: "application/at+jwt" } });
    await expectMe(await me({ token: longTyp }), user.id);
  });

  it("refuses an expired token", async () => {
    const user = await createUser();
    const now = Math.floor(Date.now() / 1000);
    const token = await forge(user.id, { claims: { iat: now - 1200, exp: now - 300 } });
    await expectUnauthorized(await me({ token }), EXPIRED);
  });

  it("refuses a token that expires this very second", async () => {
    const user = await createUser();
    const now = Math.floor(Date.now() / 1000);
    const token = await forge(user.id, { claims: { iat: now - 900, exp: now } });
    await expectUnauthorized(await me({ token }), EXPIRED);
  });

  it("refuses a token whose payload was changed (role raised to admin, or another subject)", async () => {
    const user = await createUser();
    const other = await createUser();
    await expectMe(await me({ token: user.access_token }), user.id);
    await expectUnauthorized(await me({ token: tamper(user.access_token, { payload: { role: "admin" } }) }), INVALID);
    await expectUnauthorized(await me({ token: tamper(user.access_token, { payload: { sub: other.id } }) }), INVALID);
    const exp = Math.floor(Date.now() / 1000) + 86_400 * 365;
    await expectUnauthorized(await me({ token: tamper(user.access_token, { payload: { exp } }) }), INVALID);
  });

  it("refuses a token signed with another secret", async () => {
    const user = await createUser();
    const key = new TextEncoder().encode("another-secret-that-is-also-long-enough-0123456789");
    await expectUnauthorized(await me({ token: await forge(user.id, { key }) }), INVALID);
  });

  it("refuses alg none, however it is spelled and whatever its signature part", async () => {
    const user = await createUser();
    const claims = honestClaims(user.id, { role: "admin", jti: "x" });
    const unsecured = new UnsecuredJWT(claims).encode();
    expect(unsecured.endsWith(".")).toBe(true);
    await expectUnauthorized(await me({ token: unsecured }), INVALID);
    // Hand-made with the typ the server expects; the regexp-based header parser must still refuse.
    for (const alg of ["none", "None", "NONE"]) {
      const body = `${encodeJson({ alg, typ: "at+jwt" })}.${encodeJson(claims)}`;
      await expectUnauthorized(await me({ token: `${body}.` }), INVALID);
      await expectUnauthorized(await me({ token: `${body}.${encodeJson("sig")}` }), INVALID);
    }
  });

  it("refuses another HMAC algorithm with the right secret (HS512, HS384)", async () => {
    const user = await createUser();
    for (const alg of ["HS512", "HS384"]) {
      const token = await forge(user.id, { header: { alg, typ: "at+jwt" } });
      await expectUnauthorized(await me({ token }), INVALID);
    }
  });

  it("refuses asymmetric algorithms and an RS256 header over an HMAC signature (alg confusion)", async () => {
    const user = await createUser();
    const { privateKey } = await generateKeyPair("RS256");
    await expectUnauthorized(
      await me({ token: await forge(user.id, { header: { alg: "RS256", typ: "at+jwt" }, key: privateKey }) }),
      INVALID,
    );
    const { privateKey: ecKey } = await generateKeyPair("ES256");
    await expectUnauthorized(
      await me({ token: await forge(user.id, { header: { alg: "ES256", typ: "at+jwt" }, key: ecKey }) }),
      INVALID,
    );
    const claims = honestClaims(user.id, { role: "user", jti: "j" });
    // Control: the same construction with the honest header is accepted, so only `alg` differs.
    await expectMe(await me({ token: await hmacWithHeader({ alg: "HS256", typ: "at+jwt" }, claims) }), user.id);
    for (const alg of ["RS256", "PS256", "ES256"]) {
      await expectUnauthorized(await me({ token: await hmacWithHeader({ alg, typ: "at+jwt" }, claims) }), INVALID);
    }
  });

  it.each([
    ["the wrong issuer", { claims: { iss: "someone-else" } }],
    ["no issuer", { omit: ["iss"] }],
    ["the wrong audience", { claims: { aud: "another-api" } }],
    ["no audience", { omit: ["aud"] }],
    ["no exp", { omit: ["exp"] }],
    ["no iat", { omit: ["iat"] }],
    ["no sub", { omit: ["sub"] }],
    ["no jti", { omit: ["jti"] }],
    ["no auth_time", { omit: ["auth_time"] }],
    ["no session version", { omit: ["sv"] }],
    ["a session version that is not a whole number", { claims: { sv: 0.5 } }],
    ["a negative session version", { claims: { sv: -1 } }],
    ["an auth_time after its issue time", { claims: { auth_time: Math.floor(Date.now() / 1000) + 60 } }],
    ["an auth_time that is not a number", { claims: { auth_time: "yesterday" } }],
    ["an unknown role", { claims: { role: "superadmin" } }],
    ["no role", { omit: ["role"] }],
    ["a not-before in the future", { claims: { nbf: Math.floor(Date.now() / 1000) + 3600 } }],
    ["no typ", { header: { alg: "HS256" } }],
    ["typ JWT", { header: { alg: "HS256", typ: "JWT" } }],
    ["typ of an ID token", { header: { alg: "HS256", typ: "id+jwt" } }],
  ] satisfies [string, ForgeOptions][])("refuses a token with %s", async (_label, options) => {
    const user = await createUser();
    await expectUnauthorized(await me({ token: await forge(user.id, options) }), INVALID);
  });

  it("refuses a well-signed token for an account that does not exist", async () => {
    const token = await forge("0190a3c4-0000-7000-8000-000000000000");
    await expectUnauthorized(await me({ token }), "Account no longer exists");
  });

  it.each([
    ["a word", "garbage"],
    ["three empty parts", ".."],
    ["three junk parts", "a.b.c"],
    ["a header alone", encodeJson({ alg: "HS256", typ: "at+jwt" })],
    ["JSON instead of a JWT", '{"sub":"x"}'],
    ["four parts", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln.ZXh0cmE"],
  ])("refuses garbage: %s", async (_label, token) => {
    await expectUnauthorized(await me({ authorization: `Bearer ${token}` }), INVALID);
  });

  it("refuses a validly signed token over 4096 characters, and accepts one at the limit", async () => {
    const user = await createUser();
    const jti = crypto.randomUUID();
    const iat = Math.floor(Date.now() / 1000);
    const padded = (length: number) =>
      forge(user.id, { claims: { jti, iat, exp: iat + 600, pad: "x".repeat(length) } });
    // Largest padding that still fits, found by bisection.
    let fits = 0;
    let tooLong = MAX_TOKEN_LENGTH;
    while (tooLong - fits > 1) {
      const middle = Math.floor((fits + tooLong) / 2);
      if ((await padded(middle)).length <= MAX_TOKEN_LENGTH) fits = middle;
      else tooLong = middle;
    }
    const atLimit = await padded(fits);
    const overLimit = await padded(tooLong);
    expect(atLimit.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(atLimit.length).toBeGreaterThan(MAX_TOKEN_LENGTH - 4);
    expect(overLimit.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    await expectMe(await me({ token: atLimit }), user.id);
    await expectUnauthorized(await me({ token: overLimit }), INVALID);
    await expectUnauthorized(await me({ authorization: `Bearer ${"a".repeat(20_000)}` }), INVALID);
  });

  it.each([
    ["the Token scheme", (token: string) => `Token ${token}`],
    ["the Basic scheme", () => `Basic ${btoa("someone@example.com:password")}`],
    ["a bare token", (token: string) => token],
    ["Bearer without a token", () => "Bearer"],
    ["Bearer with an empty token", () => "Bearer "],
    ["two tokens", (token: string) => `Bearer ${token} ${token}`],
    ["a comma-joined scheme list", (token: string) => `Bearer ${token}, Basic abc`],
  ])("refuses %s", async (_label, build) => {
    const user = await createUser();
    await expectUnauthorized(await me({ authorization: build(user.access_token) }), INVALID);
  });

  it.each([
    ["lower-case bearer", (token: string) => `bearer ${token}`],
    ["upper-case BEARER", (token: string) => `BEARER ${token}`],
    ["several spaces", (token: string) => `Bearer   ${token}`],
  ])("accepts %s", async (_label, build) => {
    const user = await createUser();
    await expectMe(await me({ authorization: build(user.access_token) }), user.id);
  });

  it("refuses a bad token on a public route too, instead of treating the caller as anonymous", async () => {
    const anonymous = await api("/v1/posts");
    expect(anonymous.status).toBe(200);
    await anonymous.body?.cancel();
    await expectUnauthorized(await api("/v1/posts", { token: "garbage" }), INVALID);
  });
});

describe("every failure to verify an access token is a 401 with the envelope, never a 500", () => {
  const TYP = "at+jwt";
  const raw = (bytes: string | Uint8Array) =>
    base64url.encode(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
  const claimsOf = (sub: string): JWTPayload => honestClaims(sub, { jti: crypto.randomUUID() });

  it("control: the honest header and claims through the same construction are accepted", async () => {
    const user = await createUser();
    await expectMe(
      await me({ token: await hmacOver(encodeJson({ alg: "HS256", typ: TYP }), encodeJson(claimsOf(user.id))) }),
      user.id,
    );
  });

  it.each([
    ["alg none", { alg: "none", typ: TYP }],
    ["alg RS256", { alg: "RS256", typ: TYP }],
    ["alg HS512", { alg: "HS512", typ: TYP }],
    ["alg ES384", { alg: "ES384", typ: TYP }],
    ["alg EdDSA", { alg: "EdDSA", typ: TYP }],
    ["alg hs256 (wrong case)", { alg: "hs256", typ: TYP }],
    ["an unknown alg", { alg: "XY999", typ: TYP }],
    ["an empty alg", { alg: "", typ: TYP }],
    ["no alg", { typ: TYP }],
    ["a numeric alg", { alg: 256, typ: TYP }],
    ["alg null", { alg: null, typ: TYP }],
    ["alg as an array", { alg: ["HS256"], typ: TYP }],
    ["a numeric typ", { alg: "HS256", typ: 1 }],
    ["an unknown critical extension", { alg: "HS256", typ: TYP, crit: ["exp"], exp: 1 }],
    ["crit that is not an array", { alg: "HS256", typ: TYP, crit: "b64" }],
    ["an unencoded payload (b64 false)", { alg: "HS256", typ: TYP, b64: false, crit: ["b64"] }],
  ])("refuses a correctly MACed token whose header has %s", async (_label, header) => {
    const user = await createUser();
    const token = await hmacOver(encodeJson(header), encodeJson(claimsOf(user.id)));
    await expectUnauthorized(await me({ token }), INVALID);
  });

  it.each([
    ["text that is not JSON", () => raw("not json")],
    ["an empty header", () => ""],
    ["JSON null", () => encodeJson(null)],
    ["a JSON array", () => encodeJson(["HS256"])],
    ["a JSON string", () => encodeJson("HS256")],
    ["bytes that are not UTF-8", () => raw(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))],
  ])("refuses a correctly MACed token whose header segment is %s", async (_label, header) => {
    const user = await createUser();
    const token = await hmacOver(header(), encodeJson(claimsOf(user.id)));
    await expectUnauthorized(await me({ token }), INVALID);
  });

  it.each([
    ["text that is not JSON", () => raw("not json at all")],
    ["empty", () => ""],
    ["JSON null", () => encodeJson(null)],
    ["a JSON array", (sub: string) => encodeJson([sub])],
    ["a JSON number", () => encodeJson(42)],
    ["bytes that are not UTF-8", () => raw(new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]))],
    ["exp as a string", (sub: string) => encodeJson({ ...claimsOf(sub), exp: "9999999999" })],
    ["iat as a string", (sub: string) => encodeJson({ ...claimsOf(sub), iat: "0" })],
    ["sub as a number", () => encodeJson({ ...claimsOf("x"), sub: 12345 })],
    ["role as an object", (sub: string) => encodeJson({ ...claimsOf(sub), role: { name: "admin" } })],
    ["an audience list without this API", (sub: string) => encodeJson({ ...claimsOf(sub), aud: ["a", "b"] })],
  ])("refuses a correctly MACed token whose payload is %s", async (_label, payload) => {
    const user = await createUser();
    const token = await hmacOver(encodeJson({ alg: "HS256", typ: TYP }), payload(user.id));
    await expectUnauthorized(await me({ token }), INVALID);
  });

  it("refuses broken segments of an otherwise valid token", async () => {
    const user = await createUser();
    const [header = "", payload = "", signature = ""] = user.access_token.split(".");
    const broken = [
      `${header}.${payload}.`,
      `${header}.${payload}.${signature.slice(0, -4)}`,
      `${header}.${payload}.${signature}AAAA`,
      `${header}.${payload}.${signature.replaceAll("-", "+").replaceAll("_", "/")}==`,
      `${header}.${payload}.!!!!`,
      `${header}..${signature}`,
      `.${payload}.${signature}`,
      `${header}!.${payload}.${signature}`,
      `${header}.${payload}~.${signature}`,
      `${header}.${payload}`,
      `${header}.${payload}.${signature}.${signature}`,
      `${header}.${payload}.${signature}.`,
    ];
    for (const token of broken) {
      expect(token).not.toBe(user.access_token);
      await expectUnauthorized(await me({ authorization: `Bearer ${token}` }), INVALID);
    }
    await expectMe(await me({ token: user.access_token }), user.id);
  });
});

describe("verifyAccessToken", () => {
  async function realSettings(): Promise<Settings> {
    const result = await loadSettings(env);
    if (!result.ok) throw new Error(`test settings are invalid: ${result.invalid.join(", ")}`);
    return result.settings;
  }

  /** What jose throws for these inputs, or undefined when it accepts them. */
  const thrownBy = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    );

  it("turns an error jose throws outside its own classes into a rejection, not an exception", async () => {
    const settings = await realSettings();
    const token = await forge("0190a3c4-0000-7000-8000-000000000001");
    expect(await verifyAccessToken(settings, token)).toMatchObject({ ok: true });
    // The right secret, but imported for another hash, or without the verify usage: jose refuses
    // such keys with a plain TypeError, which used to escape as a 500.
    const keys = [
      await crypto.subtle.importKey("raw", TEST_SECRET, { name: "HMAC", hash: "SHA-512" }, false, ["verify"]),
      await crypto.subtle.importKey("raw", TEST_SECRET, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
    ];
    for (const jwtKey of keys) {
      const thrown = await thrownBy(jwtVerify(token, jwtKey, { algorithms: ["HS256"] }));
      expect(thrown).toBeInstanceOf(TypeError);
      expect(thrown).not.toBeInstanceOf(errors.JOSEError);
      expect(await verifyAccessToken({ ...settings, jwtKey }, token)).toEqual({ ok: false, reason: "invalid" });
    }
  });

  it("without the algorithm pin jose would throw a TypeError for an RS256 header; with it, a plain rejection", async () => {
    const settings = await realSettings();
    const claims = honestClaims("s", { role: "user", jti: "j" });
    const token = await hmacWithHeader({ alg: "RS256", typ: "at+jwt" }, claims);
    const unpinned = await thrownBy(jwtVerify(token, settings.jwtKey));
    expect(unpinned).toBeInstanceOf(TypeError);
    expect(unpinned).not.toBeInstanceOf(errors.JOSEError);
    expect(await verifyAccessToken(settings, token)).toEqual({ ok: false, reason: "invalid" });
  });

  it("keeps expired apart from invalid", async () => {
    const settings = await realSettings();
    const now = Math.floor(Date.now() / 1000);
    const expired = await forge("s", { claims: { iat: now - 1200, exp: now - 300 } });
    expect(await verifyAccessToken(settings, expired)).toEqual({ ok: false, reason: "expired" });
    expect(await verifyAccessToken(settings, "garbage")).toEqual({ ok: false, reason: "invalid" });
  });
});

describe("access token revocation", () => {
  it("a password change revokes the old access and refresh tokens at once", async () => {
    const user = await createUser();
    const response = await api("/v1/users/me", {
      method: "PATCH",
      token: user.access_token,
      body: { password: "a brand new password", current_password: user.password },
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    await expectUnauthorized(await me({ token: user.access_token }), REVOKED);
    await expectUnauthorized(await refresh(user.refresh_token), "Invalid or expired refresh token");
    await expectUnauthorized(await login(user.email, user.password), "Invalid email or password");
    await expectMe(await me({ token: await freshLogin(user, "a brand new password") }), user.id);
  });

  it("a token issued right after a password change, in the same second, works", async () => {
    // Retried with a new user only when the steps happen to straddle a second boundary; the
    // point is the same-second case, which a whole-second revocation marker would get wrong.
    let sameSecond = false;
    for (let attempt = 0; attempt < 10 && !sameSecond; attempt++) {
      const user = await createUser();
      const response = await api("/v1/users/me", {
        method: "PATCH",
        token: user.access_token,
        body: { password: "a brand new password", current_password: user.password },
      });
      expect(response.status).toBe(200);
      const changedAt = Date.parse((await json<{ updated_at: string }>(response)).updated_at);
      const fresh = await freshLogin(user, "a brand new password");
      const oldIat = decodeJwt(user.access_token).iat ?? 0;
      const freshIat = decodeJwt(fresh).iat ?? 0;
      const second = Math.floor(changedAt / 1000);
      if (Math.floor(oldIat) !== second || Math.floor(freshIat) !== second) continue;
      sameSecond = true;
      expect(oldIat * 1000).toBeLessThanOrEqual(changedAt);
      expect(freshIat * 1000).toBeGreaterThanOrEqual(changedAt);
      // Old token from earlier in that second: revoked. New one from later in it: accepted.
      await expectUnauthorized(await me({ token: user.access_token }), REVOKED);
      await expectMe(await me({ token: fresh }), user.id);
    }
    expect(sameSecond).toBe(true);
  });

  it("a name change alone does not revoke anything", async () => {
    const user = await createUser();
    const response = await api("/v1/users/me", {
      method: "PATCH",
      token: user.access_token,
      body: { name: "Renamed" },
    });
    expect(response.status).toBe(200);
    await response.body?.cancel();
    await expectMe(await me({ token: user.access_token }), user.id);
    expect((await refresh(user.refresh_token)).status).toBe(200);
  });

  it("deactivation by an admin revokes the user's token, and reactivation does not bring it back", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    await expectMe(await me({ token: user.access_token }), user.id);
    await adminPatch(admin, user.id, { is_active: false });
    await expectUnauthorized(await me({ token: user.access_token }), REVOKED);
    await expectUnauthorized(await refresh(user.refresh_token), "Invalid or expired refresh token");
    await adminPatch(admin, user.id, { is_active: true });
    await expectUnauthorized(await me({ token: user.access_token }), REVOKED);
    await expectMe(await me({ token: await freshLogin(user) }), user.id);
  });

  it("a promotion revokes the old token; a fresh login carries the new role", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const before = await api("/v1/users", { token: user.access_token });
    await expectError(before, 403, "PermissionError");
    await adminPatch(admin, user.id, { role: "admin" });
    await expectUnauthorized(await me({ token: user.access_token }), REVOKED);
    const fresh = await freshLogin(user);
    expect(decodeJwt(fresh).role).toBe("admin");
    await expectMe(await me({ token: fresh }), user.id, "admin");
    const list = await api("/v1/users?limit=1", { token: fresh });
    expect(list.status).toBe(200);
    await list.body?.cancel();
  });

  it("a demoted admin's old token stops working at once", async () => {
    const admin = await createAdmin();
    const demoted = await createAdmin();
    const allowed = await api("/v1/users?limit=1", { token: demoted.access_token });
    expect(allowed.status).toBe(200);
    await allowed.body?.cancel();
    await adminPatch(admin, demoted.id, { role: "guest" });
    await expectUnauthorized(await api("/v1/users?limit=1", { token: demoted.access_token }), REVOKED);
    const fresh = await freshLogin(demoted);
    expect(decodeJwt(fresh).role).toBe("guest");
    await expectMe(await me({ token: fresh }), demoted.id, "guest");
    await expectError(await api("/v1/users?limit=1", { token: fresh }), 403, "PermissionError");
    const write = await api("/v1/posts", { method: "POST", token: fresh, body: { title: "t", content: "c" } });
    await expectError(write, 403, "PermissionError");
  });

  it("an admin rename does not revoke the user's token", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    await adminPatch(admin, user.id, { name: "Renamed by admin" });
    await expectMe(await me({ token: user.access_token }), user.id);
  });

  it("deleting one's own account revokes its token", async () => {
    const user = await createUser();
    const response = await api("/v1/users/me", { method: "DELETE", token: user.access_token });
    expect(response.status).toBe(204);
    await expectUnauthorized(await me({ token: user.access_token }), REVOKED);
    await expectUnauthorized(await refresh(user.refresh_token), "Invalid or expired refresh token");
    await expectUnauthorized(await login(user.email, user.password), "Invalid email or password");
  });

  it("an admin deleting an account revokes that user's token", async () => {
    const admin = await createAdmin();
    const user = await createUser();
    const response = await api(`/v1/users/${user.id}`, { method: "DELETE", token: admin.access_token });
    expect(response.status).toBe(204);
    await expectUnauthorized(await me({ token: user.access_token }), REVOKED);
  });

  it("revoking one user leaves other users' tokens alone", async () => {
    const user = await createUser();
    const bystander = await createUser();
    const response = await api("/v1/users/me", { method: "DELETE", token: user.access_token });
    expect(response.status).toBe(204);
    await expectMe(await me({ token: bystander.access_token }), bystander.id);
  });
});
