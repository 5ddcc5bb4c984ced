import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { endpointsOf } from "../src/lib/endpoints";
import { instrumentD1 } from "./d1-instrument";
import { api, BASE, createPost, createUser, expectError } from "./helpers";

/** Calls the app with a modified environment (a fault or a bad setting) instead of the real one. */
function fetchWithEnv(path: string, overrides: Partial<Cloudflare.Env>, init: RequestInit = {}) {
  return app.fetch(new Request(`${BASE}${path}`, init), { ...env, ...overrides }, createExecutionContext());
}

/** A login that has to reach D1. */
const loginInit = {
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ email: "nobody@example.com", password: "whatever-password" }),
};

/** Fault injector: a D1 whose every statement fails with a message that mentions SQL. */
const throwingD1 = instrumentD1(env.DB, () => {
  throw new Error("D1_ERROR: no such table: secret_table: SQLITE_ERROR select * from users where password_hash");
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("X-Request-Id", () => {
  it("echoes a sane incoming id on success and in error bodies", async () => {
    const ok = await api("/health", { headers: { "X-Request-Id": "client-abc.123:x_y" } });
    expect(ok.headers.get("X-Request-Id")).toBe("client-abc.123:x_y");
    const missing = await api("/v1/posts/does-not-exist", { headers: { "X-Request-Id": "trace-42" } });
    const body = await expectError(missing, 404, "NotFoundError");
    expect(body.request_id).toBe("trace-42");
  });

  it.each([["a".repeat(129)], ["has space"], ["semi;colon"], ["<script>"]])("replaces an unsafe id %#", async (bad) => {
    const response = await api("/health", { headers: { "X-Request-Id": bad } });
    const id = response.headers.get("X-Request-Id");
    expect(id).not.toBe(bad);
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("unknown routes and methods", () => {
  it("404s inside and outside /v1 with the envelope", async () => {
    await expectError(await api("/v1/nothing-here"), 404, "NotFoundError");
    await expectError(await api("/elsewhere"), 404, "NotFoundError");
    await expectError(await api("/v1/posts/x/y/z"), 404, "NotFoundError");
  });

  it("405s with Allow before authentication", async () => {
    const response = await api("/v1/posts", { method: "PUT", token: "not-a-token" });
    const body = await expectError(response, 405, "MethodNotAllowedError");
    expect(response.headers.get("Allow")).toBe("GET, HEAD, POST");
    expect(body.details).toEqual({ allowed: ["GET", "HEAD", "POST"] });
    const item = await api("/v1/posts/abc", { method: "POST" });
    await expectError(item, 405, "MethodNotAllowedError");
    expect(item.headers.get("Allow")).toBe("DELETE, GET, HEAD, PATCH");
    const me = await api("/v1/users/me", { method: "PUT" });
    expect(me.status).toBe(405);
    expect(me.headers.get("Allow")).toBe("DELETE, GET, HEAD, PATCH");
  });

  it("answers HEAD wherever GET works, without a body", async () => {
    const author = await createUser();
    const post = await createPost(author.access_token, { status: "published" });
    const head = await api(`/v1/posts/${post.id}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("ETag")).toBeTruthy();
    expect(await head.text()).toBe("");
    const list = await api("/v1/posts", { method: "HEAD" });
    expect(list.status).toBe(200);
    expect(await list.text()).toBe("");
    const missing = await api("/v1/posts/nope", { method: "HEAD" });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe("");
    expect((await api("/health", { method: "HEAD" })).status).toBe(200);
  });
});

describe("request bodies", () => {
  it("415s a body that is not JSON", async () => {
    const response = await api("/v1/auth/login", {
      method: "POST",
      body: "email=a@b.c&password=x",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    await expectError(response, 415, "UnsupportedMediaTypeError");
    const none = await api("/v1/auth/login", { method: "POST", body: "{}" });
    await expectError(none, 415, "UnsupportedMediaTypeError");
  });

  it("400s malformed JSON, invalid UTF-8 and non-object bodies", async () => {
    const headers = { "Content-Type": "application/json" };
    const malformed = await api("/v1/auth/login", { method: "POST", body: '{"email": ', headers });
    const body = await expectError(malformed, 400, "ValidationError");
    expect(body.error).toMatch(/Malformed JSON/);
    const badUtf8 = await api("/v1/auth/login", {
      method: "POST",
      body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      headers,
    });
    await expectError(badUtf8, 400, "ValidationError");
    const array = await api("/v1/auth/login", { method: "POST", body: "[1,2]", headers });
    await expectError(array, 400, "ValidationError");
    const empty = await api("/v1/auth/login", { method: "POST", body: "", headers });
    await expectError(empty, 400, "ValidationError");
  });

  it("413s a body over 64 KiB on ordinary routes, declared or streamed", async () => {
    const big = JSON.stringify({ email: "a@example.com", password: "x".repeat(70 * 1024) });
    const declared = await api("/v1/auth/login", {
      method: "POST",
      body: big,
      headers: { "Content-Type": "application/json" },
    });
    const detail = await expectError(declared, 413, "PayloadTooLargeError");
    expect(detail.details).toEqual({ limit_bytes: 65536 });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
        for (let i = 0; i < 5; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const streamed = await app.fetch(
      new Request(`${BASE}/v1/auth/login`, {
        method: "POST",
        body: stream,
        headers: { "Content-Type": "application/json" },
        duplex: "half",
      } as RequestInit),
      env,
      createExecutionContext(),
    );
    await expectError(streamed, 413, "PayloadTooLargeError");
  });

  it("names unknown fields (strict schemas stop mass assignment)", async () => {
    const response = await api("/v1/auth/register", {
      method: "POST",
      body: { email: "mass@example.com", name: "M", password: "long enough pw", role: "admin" },
    });
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "role", message: "Unknown field" }] });
  });
});

describe("responses", () => {
  it("are JSON with an explicit charset", async () => {
    const response = await api("/health");
    expect(response.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
    const error = await api("/nope");
    expect(error.headers.get("Content-Type")).toBe("application/json; charset=utf-8");
  });

  it("render unexpected failures as a generic 500 without SQL or stack", async () => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const response = await fetchWithEnv("/v1/auth/login", { DB: throwingD1 }, loginInit);
    const body = await expectError(response, 500, "InternalError");
    expect(body.error).toBe("Internal server error");
    const text = JSON.stringify(body);
    for (const leak of ["select", "SQLITE", "secret_table", "password_hash", "at ", ".ts"]) {
      expect(text).not.toContain(leak);
    }
  });
});

describe("CORS", () => {
  it("answers preflight for an allowed origin", async () => {
    const response = await api("/v1/posts", {
      method: "OPTIONS",
      headers: {
        Origin: "http://localhost:5173",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Content-Type",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:5173");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("PATCH");
    expect(response.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
    expect(response.headers.get("Access-Control-Allow-Headers")).toContain("X-D1-Bookmark");
    const simple = await api("/v1/posts", { headers: { Origin: "http://localhost:5173" } });
    expect(simple.headers.get("Access-Control-Expose-Headers")).toContain("X-D1-Bookmark");
  });

  it("answers a RealWorld frontend's preflight (PUT, Token header, X-Requested-With) and its errors", async () => {
    const response = await api("/api/articles/some-slug", {
      method: "OPTIONS",
      headers: {
        Origin: "http://localhost:3000",
        "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Authorization, Content-Type, X-Requested-With",
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("PUT");
    for (const header of ["Authorization", "Content-Type", "X-Requested-With"]) {
      expect(response.headers.get("Access-Control-Allow-Headers")).toContain(header);
    }
    // An error the frontend must be able to read (a 404 in RealWorld's shape).
    const missing = await api("/api/articles/no-such-slug", { headers: { Origin: "http://localhost:3000" } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
    expect(await missing.json()).toEqual({ errors: { body: ["Article not found"] } });
  });

  it("does not allow an origin outside CORS_ORIGINS", async () => {
    const response = await api("/v1/posts", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" },
    });
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const simple = await api("/v1/posts", { headers: { Origin: "https://evil.example" } });
    expect(simple.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  const preflight = (path: string, origin: string) =>
    api(path, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "GET", "X-Request-Id": "preflight-1" },
    });

  it("answers a preflight for every path the app serves, as before", async () => {
    const paths = new Set(endpointsOf(app).map(({ path }) => path.replace(/:[A-Za-z_]+/g, "some-id")));
    expect(paths.size).toBeGreaterThan(10);
    for (const path of paths) {
      const response = await preflight(path, "http://localhost:5173");
      expect(response.status, path).toBe(204);
      expect(response.headers.get("Access-Control-Allow-Origin"), path).toBe("http://localhost:5173");
      expect(response.headers.get("Access-Control-Allow-Methods"), path).toContain("GET");
      expect(await response.text()).toBe("");
    }
  });

  it("404s a preflight for a path that does not exist, with the envelope and CORS headers", async () => {
    for (const path of ["/v1/nothing-here", "/elsewhere", "/v1/posts/a/b/c", "/v1/users/me/extra"]) {
      const response = await preflight(path, "http://localhost:5173");
      const body = await expectError(response, 404, "NotFoundError");
      expect(body.details).toEqual({});
      expect(body.request_id).toBe("preflight-1");
      expect(response.headers.get("Access-Control-Allow-Origin"), path).toBe("http://localhost:5173");
      expect(response.headers.get("Access-Control-Expose-Headers"), path).toContain("X-Request-Id");
      expect(response.headers.get("Vary"), path).toMatch(/\bOrigin\b/);
      // Not a preflight approval.
      expect(response.headers.get("Access-Control-Allow-Methods"), path).toBeNull();
      expect(response.headers.get("Access-Control-Max-Age"), path).toBeNull();
    }
    // The same CORS headers as a GET of an unknown path.
    const get = await api("/v1/nothing-here", { headers: { Origin: "http://localhost:5173" } });
    await expectError(get, 404, "NotFoundError");
    expect(get.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:5173");
  });

  it("404s a preflight for an unknown path from another origin without CORS headers", async () => {
    const response = await preflight("/v1/nothing-here", "https://evil.example");
    await expectError(response, 404, "NotFoundError");
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const bare = await api("/nope", { method: "OPTIONS" });
    await expectError(bare, 404, "NotFoundError");
  });
});

describe("configuration", () => {
  it("503s every API route with the bad setting named, never its value", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const response = await fetchWithEnv("/v1/posts", { JWT_SECRET: "too-short-secret-value" });
    const body = await expectError(response, 503, "ServiceUnavailableError");
    expect(body.details).toEqual({ invalid_settings: ["JWT_SECRET"] });
    expect(JSON.stringify(body)).not.toContain("too-short-secret-value");
    const logged = warn.mock.calls.map((call) => String(call[0])).join("\n");
    expect(logged).toContain("JWT_SECRET");
    expect(logged).not.toContain("too-short-secret-value");
  });

  it("names each invalid setting", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const response = await fetchWithEnv("/v1/posts", {
      ACCESS_TOKEN_TTL_SECONDS: "-5",
      CORS_ORIGINS: "*",
    });
    const body = await expectError(response, 503, "ServiceUnavailableError");
    expect(body.details).toEqual({ invalid_settings: ["ACCESS_TOKEN_TTL_SECONDS", "CORS_ORIGINS"] });
  });

  it("is reported by /health/ready while /health stays up", async () => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const overrides = { JWT_SECRET: "short" };
    expect((await fetchWithEnv("/health", overrides)).status).toBe(200);
    const ready = await fetchWithEnv("/health/ready", overrides);
    const body = await expectError(ready, 503, "ServiceUnavailableError");
    expect(body.details).toMatchObject({ checks: { config: "failed", d1: "ok", kv: "ok" } });
  });

  it("readiness names a failing D1", async () => {
    vi.spyOn(console, "log").mockImplementation(() => undefined);
    const ready = await fetchWithEnv("/health/ready", { DB: throwingD1 });
    const body = await expectError(ready, 503, "ServiceUnavailableError");
    expect(body.details).toEqual({ checks: { config: "ok", d1: "failed", kv: "ok" } });
  });
});

describe("request log", () => {
  it("writes one JSON line per request with the contract's fields and no secrets", async () => {
    const password = "hunter2-but-longer";
    const session = await createUser({ password });
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const response = await api("/v1/users/me", {
      token: session.access_token,
      headers: { "X-Request-Id": "log-test-1" },
    });
    expect(response.status).toBe(200);
    await api("/v1/auth/login", { method: "POST", body: { email: session.email, password } });
    await api("/v1/auth/login", { method: "POST", body: { email: session.email, password: "wrong-password" } });
    const lines = log.mock.calls.map((call) => String(call[0]));
    expect(lines).toHaveLength(3);
    const first = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    expect(first).toMatchObject({
      level: "info",
      msg: "request",
      request_id: "log-test-1",
      method: "GET",
      route: "/v1/users/me",
      status: 200,
      user_id: session.id,
    });
    expect(typeof first.duration_ms).toBe("number");
    const failed = JSON.parse(lines[2] ?? "{}") as Record<string, unknown>;
    expect(failed).toMatchObject({ status: 401, error: { type: "AuthenticationError" } });
    const all = lines.join("\n");
    for (const secret of [
      password,
      session.access_token,
      session.refresh_token,
      "pbkdf2",
      "Bearer",
      "wrong-password",
    ]) {
      expect(all).not.toContain(secret);
    }
  });

  it("adds the stack for 500s", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    await fetchWithEnv("/v1/auth/login", { DB: throwingD1 }, loginInit);
    const line = JSON.parse(String(log.mock.calls[0]?.[0])) as {
      level: string;
      error: { type: string; stack: string };
    };
    expect(line.level).toBe("error");
    expect(line.error.type).toBe("InternalError");
    expect(line.error.stack).toMatch(/^\s+at /);
  });
});

describe("security headers", () => {
  it("every API response carries a strict CSP and the hardening headers", async () => {
    for (const response of [await api("/health"), await api("/v1/posts"), await api("/nope")]) {
      expect(response.headers.get("Content-Security-Policy")).toBe(
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      );
      expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(response.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(response.headers.get("X-Frame-Options")).toBe("DENY");
      expect(response.headers.get("Strict-Transport-Security")).toMatch(/^max-age=\d+/);
      expect(response.headers.get("X-Powered-By")).toBeNull();
    }
  });

  it("only /docs gets the looser CSP that lets Swagger UI run from this origin", async () => {
    const csp = (await api("/docs")).headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });

  it("does not pin HSTS over plain HTTP (wrangler dev)", async () => {
    const response = await app.fetch(new Request("http://localhost:8787/health"), env, createExecutionContext());
    expect(response.headers.get("Strict-Transport-Security")).toBeNull();
  });
});

describe("Server-Timing", () => {
  const parse = (header: string | null) =>
    Object.fromEntries(
      (header ?? "").split(", ").map((entry) => {
        const match = /^(\w+);dur=(\d+(?:\.\d+)?)$/.exec(entry);
        expect(match, `parseable: ${entry}`).not.toBeNull();
        return [match?.[1] ?? "", Number(match?.[2])];
      }),
    );

  it("names db, cache and total on every response, parseable", async () => {
    for (const response of [await api("/health"), await api("/v1/posts?limit=3"), await api("/nope")]) {
      const timing = parse(response.headers.get("Server-Timing"));
      expect(Object.keys(timing).sort()).toEqual(["cache", "db", "total"]);
      for (const value of Object.values(timing)) expect(value).toBeGreaterThanOrEqual(0);
      expect(timing.total).toBeGreaterThanOrEqual(Math.max(timing.db ?? 0, timing.cache ?? 0));
    }
  });

  it("/health touches neither D1 nor KV", async () => {
    const timing = parse((await api("/health")).headers.get("Server-Timing"));
    expect(timing.db).toBe(0);
    expect(timing.cache).toBe(0);
  });
});

describe("header limits", () => {
  it.each([
    ["If-None-Match", 1025],
    ["If-Match", 1025],
    ["X-D1-Bookmark", 129],
  ])("%s longer than its limit is a 400 naming it", async (name, length) => {
    const response = await api("/v1/posts", { headers: { [name]: `"${"a".repeat(length)}"` } });
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: name, message: expect.stringContaining("at most") }] });
  });
});
