import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { createArticle, registerConduitUser } from "./conduit/helpers";
import { BASE, createUser, expectError } from "./helpers";

/**
 * The app with one limiter replaced by TEST_STRICT_LIMITER: a real Miniflare rate limiter with a
 * budget of 3 per 60 s (the suite's own limiters are raised so other tests are not throttled).
 */
function strictly(limiter: string, path: string, init: RequestInit, ip = "203.0.113.7") {
  const headers = new Headers(init.headers);
  headers.set("CF-Connecting-IP", ip);
  return app.fetch(
    new Request(`${BASE}${path}`, { ...init, headers }),
    { ...env, [limiter]: env.TEST_STRICT_LIMITER },
    createExecutionContext(),
  );
}

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

describe("rate limits", () => {
  it("the 4th login from one IP within the window is a 429 with Retry-After", async () => {
    const ip = "198.51.100.1";
    for (let i = 0; i < 3; i++) {
      const response = await strictly(
        "LOGIN_IP_LIMITER",
        "/v1/auth/login",
        json({ email: `x${i}@example.com`, password: "wrong-one" }),
        ip,
      );
      expect(response.status).toBe(401);
    }
    const limited = await strictly(
      "LOGIN_IP_LIMITER",
      "/v1/auth/login",
      json({ email: "y@example.com", password: "wrong-one" }),
      ip,
    );
    const body = await expectError(limited, 429, "RateLimitError");
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(body.details).toEqual({ retry_after_seconds: 60 });
    // Another address still gets through.
    const other = await strictly(
      "LOGIN_IP_LIMITER",
      "/v1/auth/login",
      json({ email: "z@example.com", password: "wrong-one" }),
      "198.51.100.2",
    );
    expect(other.status).toBe(401);
  });

  it("login is also limited per account across addresses (the looser ceiling)", async () => {
    const user = await createUser();
    for (let i = 0; i < 3; i++) {
      const response = await strictly(
        "LOGIN_ACCOUNT_LIMITER",
        "/v1/auth/login",
        json({ email: user.email, password: "bad-password" }),
        `192.0.2.${i}`,
      );
      expect(response.status).toBe(401);
    }
    const limited = await strictly(
      "LOGIN_ACCOUNT_LIMITER",
      "/v1/auth/login",
      json({ email: user.email.toUpperCase(), password: user.password }),
      "192.0.2.99",
    );
    await expectError(limited, 429, "RateLimitError");
  });

  it("register per IP", async () => {
    const ip = "198.51.100.10";
    for (let i = 0; i < 3; i++) {
      const response = await strictly(
        "REGISTER_IP_LIMITER",
        "/v1/auth/register",
        json({ email: `r${i}-${Date.now()}@example.com`, name: "R", password: "long enough pw" }),
        ip,
      );
      expect(response.status).toBe(201);
    }
    const limited = await strictly(
      "REGISTER_IP_LIMITER",
      "/v1/auth/register",
      json({ email: `r9-${Date.now()}@example.com`, name: "R", password: "long enough pw" }),
      ip,
    );
    await expectError(limited, 429, "RateLimitError");
  });

  it("refresh per IP", async () => {
    const ip = "198.51.100.20";
    for (let i = 0; i < 3; i++) {
      const response = await strictly(
        "REFRESH_IP_LIMITER",
        "/v1/auth/refresh",
        json({ refresh_token: "not-a-token" }),
        ip,
      );
      expect(response.status).toBe(401);
    }
    const limited = await strictly(
      "REFRESH_IP_LIMITER",
      "/v1/auth/refresh",
      json({ refresh_token: "not-a-token" }),
      ip,
    );
    await expectError(limited, 429, "RateLimitError");
  });

  it("post creation per user, whatever the address", async () => {
    const author = await createUser();
    const create = (ip: string) =>
      strictly(
        "POST_WRITE_USER_LIMITER",
        "/v1/posts",
        {
          ...json({ title: "t", content: "c" }),
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${author.access_token}` },
        },
        ip,
      );
    for (let i = 0; i < 3; i++) expect((await create(`203.0.113.${i}`)).status).toBe(201);
    await expectError(await create("203.0.113.50"), 429, "RateLimitError");
    const other = await createUser();
    const otherCreate = await strictly("POST_WRITE_USER_LIMITER", "/v1/posts", {
      ...json({ title: "t", content: "c" }),
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${other.access_token}` },
    });
    expect(otherCreate.status).toBe(201);
  });

  it("RealWorld writes share the user's write limit: the 4th favourite is a 429 in RealWorld's shape", async () => {
    const author = await registerConduitUser();
    const reader = await registerConduitUser();
    const article = await createArticle(author.token);
    const favourite = (method: "POST" | "DELETE") =>
      strictly("POST_WRITE_USER_LIMITER", `/api/articles/${article.slug}/favorite`, {
        method,
        headers: { Authorization: `Token ${reader.token}` },
      });
    for (const method of ["POST", "DELETE", "POST"] as const) expect((await favourite(method)).status).toBe(200);
    const limited = await favourite("DELETE");
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(await limited.json()).toEqual({ errors: { body: ["Too many requests, try again later"] } });
  });

  it("a limiter that errors lets the request through and logs it", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    /** Fault injector: a rate limiter whose every call throws. */
    const throwingLimiter = { limit: () => Promise.reject(new Error("limiter down (injected)")) };
    const response = await app.fetch(
      new Request(`${BASE}/v1/auth/login`, json({ email: "nobody@example.com", password: "wrong-one" })),
      { ...env, LOGIN_IP_LIMITER: throwingLimiter },
      createExecutionContext(),
    );
    expect(response.status).toBe(401);
    const line = JSON.parse(String(log.mock.calls.at(-1)?.[0])) as { warnings: string[] };
    expect(line.warnings.join(" ")).toContain("LOGIN_IP_LIMITER");
    log.mockRestore();
  });
});
