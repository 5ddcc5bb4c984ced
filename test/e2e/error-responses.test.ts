// The errors a client meets on both surfaces, without an account: each request's status is
// asserted here, and its headers and body are checked against /openapi.json by the conformance
// check every e2e file runs (conformance-setup.ts). Uses none of the sign-up budget; the three
// /api/users/login requests count towards LOGIN_IP_LIMITER (20 a minute locally).
import { describe, expect, inject, it } from "vitest";

const base = inject("baseUrl");
const TOO_LARGE = "x".repeat(70 * 1024);

type Case = { method: string; path: string; status: number; headers?: Record<string, string>; body?: string };

const json = (value: unknown) => JSON.stringify(value);
const JSON_TYPE = { "Content-Type": "application/json" };
const TEXT_TYPE = { "Content-Type": "text/plain" };

const V1: Case[] = [
  { method: "GET", path: "/v1/posts/no-such-post", status: 404 },
  { method: "GET", path: "/v1/posts?limit=0", status: 400 },
  { method: "GET", path: "/v1/posts?cursor=not-a-cursor", status: 400 },
  { method: "GET", path: "/v1/users/me", status: 401, headers: { Authorization: "Bearer not-a-token" } },
  { method: "PUT", path: "/v1/posts/some-id", status: 405 },
  { method: "DELETE", path: "/v1/posts", status: 405 },
  { method: "GET", path: "/v1/nothing-here", status: 404 },
  { method: "POST", path: "/v1/auth/password-reset/confirm", status: 415, headers: TEXT_TYPE, body: "hello" },
  { method: "POST", path: "/v1/auth/password-reset/confirm", status: 400, headers: JSON_TYPE, body: "{not json" },
  {
    method: "POST",
    path: "/v1/auth/password-reset/confirm",
    status: 400,
    headers: JSON_TYPE,
    body: json({ token: "t", password: "a long password", role: "admin" }),
  },
  {
    method: "POST",
    path: "/v1/auth/password-reset/confirm",
    status: 413,
    headers: JSON_TYPE,
    body: json({ token: TOO_LARGE, password: "a long password" }),
  },
  { method: "HEAD", path: "/v1/posts", status: 200 },
  { method: "GET", path: "/v1/posts?limit=1", status: 200, headers: { "X-Request-Id": "e2e-trace.1" } },
];

const CONDUIT: Case[] = [
  { method: "GET", path: "/api/articles/no-such-slug", status: 404 },
  { method: "GET", path: "/api/articles?limit=-1", status: 422 },
  { method: "GET", path: "/api/user", status: 401, headers: { Authorization: "Token not-a-token" } },
  { method: "POST", path: "/api/articles", status: 401, headers: JSON_TYPE, body: json({ article: {} }) },
  { method: "GET", path: "/api/articles/feed", status: 401 },
  { method: "PUT", path: "/api/tags", status: 405 },
  { method: "GET", path: "/api/nothing-here", status: 404 },
  { method: "POST", path: "/api/users/login", status: 415, headers: TEXT_TYPE, body: "hello" },
  { method: "POST", path: "/api/users/login", status: 422, headers: JSON_TYPE, body: "{not json" },
  {
    method: "POST",
    path: "/api/users/login",
    status: 413,
    headers: JSON_TYPE,
    body: json({ user: { email: "a@example.com", password: TOO_LARGE } }),
  },
  { method: "HEAD", path: "/api/tags", status: 200 },
];

async function send({ method, path, headers, body }: Case) {
  const response = await fetch(`${base}${path}`, { method, headers, body });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

describe("error answers, checked against the document", () => {
  it.each(V1)("/v1: $method $path → $status", async (request) => {
    const response = await send(request);
    expect(response.status, response.text).toBe(request.status);
  });

  it.each(CONDUIT)("/api: $method $path → $status", async (request) => {
    const response = await send(request);
    expect(response.status, response.text).toBe(request.status);
  });

  it("echoes a sane X-Request-Id", async () => {
    const response = await send({ method: "GET", path: "/health", status: 200, headers: { "X-Request-Id": "e2e-1" } });
    expect(response.headers.get("X-Request-Id")).toBe("e2e-1");
  });
});
