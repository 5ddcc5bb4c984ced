import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RETRY_AFTER_SECONDS } from "../src/middleware/rate-limit";
import { flakyD1, instrumentD1 } from "./d1-instrument";
import { BASE, createPost, createUser, expectError, fetchSettled, withRole } from "./helpers";

/**
 * Every error type of the contract's table (API.md §1), each provoked by a real request, with the
 * whole envelope checked: status, type, `details` (always an object, `{}` when there is nothing
 * to add), `request_id` equal to the `X-Request-Id` header, the JSON content type, and the header
 * each status requires (`WWW-Authenticate` on 401, `Allow` on 405, `Retry-After` on 429) and no
 * other status carries.
 */

afterEach(() => {
  vi.restoreAllMocks();
});

const REQUIRED_HEADERS: Record<number, string> = { 401: "WWW-Authenticate", 405: "Allow", 429: "Retry-After" };

type Send = {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
  /** Bindings replaced for this request only (a fault injector, a strict limiter, a bad setting). */
  env?: Partial<Cloudflare.Env>;
};

let sequence = 0;

/** Sends one request through the Worker with its own `X-Request-Id`, and returns both. */
async function send(path: string, init: Send = {}): Promise<{ response: Response; requestId: string }> {
  sequence += 1;
  const requestId = `errors-test-${sequence}`;
  const headers = new Headers(init.headers);
  headers.set("X-Request-Id", requestId);
  if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
  let body: string | undefined;
  if (typeof init.body === "string") body = init.body;
  else if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const response = await fetchSettled(
    new Request(`${BASE}${path}`, { method: init.method ?? "GET", headers, body }),
    init.env,
  );
  return { response, requestId };
}

/** The full envelope of one error response, with exactly these `details`. */
async function expectEnvelope(
  { response, requestId }: { response: Response; requestId: string },
  status: number,
  type: string,
  details: Record<string, unknown>,
): Promise<void> {
  expect(response.headers.get("X-Request-Id")).toBe(requestId);
  expect(response.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
  const body = await expectError(response, status, type);
  expect(body.request_id).toBe(requestId);
  expect(body.details).toEqual(details);
  for (const [code, header] of Object.entries(REQUIRED_HEADERS)) {
    if (Number(code) === status) expect(response.headers.get(header), `${status} sets ${header}`).toBeTruthy();
    else expect(response.headers.get(header), `${status} does not set ${header}`).toBeNull();
  }
}

describe("the error envelope, for every type in the contract's table", () => {
  it("400 ValidationError: details.issues names the field", async () => {
    const result = await send("/v1/auth/register", {
      method: "POST",
      body: { email: "mass@example.com", name: "M", password: "long enough pw", role: "admin" },
    });
    await expectEnvelope(result, 400, "ValidationError", { issues: [{ path: "role", message: "Unknown field" }] });
  });

  it("401 AuthenticationError: empty details and a Bearer challenge", async () => {
    for (const token of [undefined, "not-a-token"]) {
      const result = await send("/v1/users/me", { token });
      await expectEnvelope(result, 401, "AuthenticationError", {});
      expect(result.response.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
    }
    const wrongPassword = await send("/v1/auth/login", {
      method: "POST",
      body: { email: "nobody@example.com", password: "wrong password" },
    });
    await expectEnvelope(wrongPassword, 401, "AuthenticationError", {});
  });

  it("403 PermissionError: empty details", async () => {
    const guest = await withRole(await createUser(), "guest");
    const result = await send("/v1/posts", {
      method: "POST",
      token: guest.access_token,
      body: { title: "t", content: "c" },
    });
    await expectEnvelope(result, 403, "PermissionError", {});
  });

  it("404 NotFoundError for an unknown route, inside and outside /v1: empty details", async () => {
    for (const path of ["/v1/nothing-here", "/elsewhere", "/v1/posts/a/b/c"]) {
      await expectEnvelope(await send(path), 404, "NotFoundError", {});
    }
  });

  it("404 NotFoundError for an unknown resource: details name it", async () => {
    const id = crypto.randomUUID();
    await expectEnvelope(await send(`/v1/posts/${id}`), 404, "NotFoundError", { resource: "post", id });
    const admin = await withRole(await createUser(), "admin");
    await expectEnvelope(await send(`/v1/users/${id}`, { token: admin.access_token }), 404, "NotFoundError", {
      resource: "user",
      id,
    });
  });

  it("405 MethodNotAllowedError: details and Allow list the same methods", async () => {
    const result = await send("/v1/posts", { method: "PUT" });
    await expectEnvelope(result, 405, "MethodNotAllowedError", { allowed: ["GET", "HEAD", "POST"] });
    expect(result.response.headers.get("Allow")).toBe("GET, HEAD, POST");
  });

  it("409 ConflictError: details say what conflicts", async () => {
    const user = await createUser();
    const result = await send("/v1/auth/register", {
      method: "POST",
      body: { email: user.email, name: "Again", password: "another password" },
    });
    await expectEnvelope(result, 409, "ConflictError", { field: "email" });
  });

  it("412 PreconditionFailedError: details carry the current ETag", async () => {
    const author = await createUser();
    const post = await createPost(author.access_token);
    const current = (await send(`/v1/posts/${post.id}`, { token: author.access_token })).response.headers.get("ETag");
    expect(current).toBeTruthy();
    const result = await send(`/v1/posts/${post.id}`, {
      method: "PATCH",
      token: author.access_token,
      headers: { "If-Match": '"0-stale"' },
      body: { title: "Too late" },
    });
    await expectEnvelope(result, 412, "PreconditionFailedError", { current_etag: current });
  });

  it("413 PayloadTooLargeError: details give the limit", async () => {
    const result = await send("/v1/auth/login", {
      method: "POST",
      body: { email: "a@example.com", password: "x".repeat(70 * 1024) },
    });
    await expectEnvelope(result, 413, "PayloadTooLargeError", { limit_bytes: 65536 });
  });

  it("415 UnsupportedMediaTypeError: empty details", async () => {
    const result = await send("/v1/auth/login", {
      method: "POST",
      headers: { "Content-Type": "text/plain" },
      body: '{"email":"a@example.com","password":"x"}',
    });
    await expectEnvelope(result, 415, "UnsupportedMediaTypeError", {});
  });

  it("429 RateLimitError: details and Retry-After give the same wait", async () => {
    const strict = { LOGIN_IP_LIMITER: env.TEST_STRICT_LIMITER };
    const login = () =>
      send("/v1/auth/login", {
        method: "POST",
        headers: { "CF-Connecting-IP": "203.0.113.200" },
        body: { email: "nobody@example.com", password: "wrong password" },
        env: strict,
      });
    for (let i = 0; i < 3; i++) expect((await login()).response.status).toBe(401);
    const result = await login();
    await expectEnvelope(result, 429, "RateLimitError", { retry_after_seconds: RETRY_AFTER_SECONDS });
    expect(result.response.headers.get("Retry-After")).toBe(String(RETRY_AFTER_SECONDS));
  });

  it("500 InternalError: generic message, empty details, no stack, SQL or secret", async () => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    // Not one of D1's transient messages, so it is not retried and not a 503.
    const broken = instrumentD1(env.DB, () => {
      throw new Error("D1_ERROR: no such table: secret_table: SQLITE_ERROR select password_hash from users");
    });
    const result = await send("/v1/auth/login", {
      method: "POST",
      body: { email: "nobody@example.com", password: "whatever-password" },
      env: { DB: broken },
    });
    const text = await result.response.clone().text();
    await expectEnvelope(result, 500, "InternalError", {});
    expect(JSON.parse(text).error).toBe("Internal server error");
    for (const leak of ["select", "SQLITE", "secret_table", "password_hash", "D1_ERROR", "at ", ".ts", "stack"]) {
      expect(text).not.toContain(leak);
    }
  });

  it("503 ServiceUnavailableError when D1 stays down after retries: details name it", async () => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const author = await createUser();
    const { db, state } = flakyD1(env.DB, () => true);
    const result = await send("/v1/users/me", { token: author.access_token, env: { DB: db } });
    await expectEnvelope(result, 503, "ServiceUnavailableError", { dependency: "d1" });
    expect(state.calls).toBeGreaterThan(1);
  });

  it("503 ServiceUnavailableError when the configuration is invalid: details name the setting, not its value", async () => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const result = await send("/v1/posts", { env: { JWT_SECRET: "too-short-secret-value" } });
    const text = await result.response.clone().text();
    await expectEnvelope(result, 503, "ServiceUnavailableError", { invalid_settings: ["JWT_SECRET"] });
    expect(text).not.toContain("too-short-secret-value");
  });
});
