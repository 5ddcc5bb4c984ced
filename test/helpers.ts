import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../src/app";

export const BASE = "https://api.test";

type ApiInit = Omit<RequestInit, "body"> & { body?: unknown; token?: string | undefined };

/** Calls the Worker in-process. Objects become JSON bodies; `token` becomes a bearer header. */
export async function api(path: string, init: ApiInit = {}): Promise<Response> {
  const { body, token, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (token) headers.set("Authorization", `Bearer ${token}`);
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    if (typeof body === "string" || body instanceof Uint8Array || body instanceof ReadableStream) {
      payload = body as BodyInit;
    } else {
      payload = JSON.stringify(body);
      if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    }
  }
  return exports.default.fetch(new Request(`${BASE}${path}`, { ...rest, headers, body: payload }));
}

/** Bindings a test swaps for fault injectors, recorders or counters. */
export type EnvOverrides = Partial<Record<keyof Cloudflare.Env, unknown>>;

/**
 * Runs the app in-process with its own execution context and waits for the work it left to
 * `waitUntil` (cache fills, mail), so the next call sees it. `overrides` swaps bindings.
 */
export async function fetchSettled(request: Request, overrides: EnvOverrides = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(request, { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

let counter = 0;
export function uniqueEmail(prefix = "user"): string {
  counter += 1;
  return `${prefix}-${Date.now()}-${counter}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

export type Session = {
  id: string;
  email: string;
  password: string;
  access_token: string;
  refresh_token: string;
  user: Record<string, unknown>;
};

/** Registers a fresh user and returns its tokens. */
export async function createUser(opts: { name?: string; password?: string; email?: string } = {}): Promise<Session> {
  const email = opts.email ?? uniqueEmail();
  const password = opts.password ?? "correct horse battery";
  const response = await api("/v1/auth/register", {
    method: "POST",
    body: { email, name: opts.name ?? "Test User", password },
  });
  expect(response.status).toBe(201);
  const body = await json<{ user: { id: string }; access_token: string; refresh_token: string }>(response);
  return {
    id: body.user.id,
    email,
    password,
    access_token: body.access_token,
    refresh_token: body.refresh_token,
    user: body.user,
  };
}

export async function login(email: string, password: string): Promise<Response> {
  return api("/v1/auth/login", { method: "POST", body: { email, password } });
}

export type Role = "admin" | "user" | "guest";

/** Gives a user a role directly in D1, as `npm run promote` does (both API surfaces use it). */
export async function setRoleInD1(userId: string, role: Role): Promise<void> {
  await env.DB.prepare("update users set role = ? where id = ?").bind(role, userId).run();
}

/** `setRoleInD1`, then a fresh login through /v1 so the returned token carries the role. */
export async function withRole(session: Session, role: Role): Promise<Session> {
  await setRoleInD1(session.id, role);
  const response = await login(session.email, session.password);
  expect(response.status).toBe(200);
  const body = await json<{ access_token: string; refresh_token: string; user: Record<string, unknown> }>(response);
  return { ...session, access_token: body.access_token, refresh_token: body.refresh_token, user: body.user };
}

export async function createAdmin(): Promise<Session> {
  return withRole(await createUser({ name: "Admin" }), "admin");
}

export async function createPost(
  token: string,
  body: { title?: string; content?: string; status?: "draft" | "published" | "archived" } = {},
): Promise<Record<string, unknown> & { id: string; version: number }> {
  const response = await api("/v1/posts", {
    method: "POST",
    token,
    body: { title: body.title ?? "A title", content: body.content ?? "Some content", status: body.status ?? "draft" },
  });
  expect(response.status).toBe(201);
  return json(response);
}

export type ErrorEnvelope = { error: string; type: string; details: Record<string, unknown>; request_id: string };

/**
 * Asserts the contract's error envelope (API.md §1): exactly `error`, `type`, `details` and
 * `request_id`, with `details` always a plain object, and returns the body for further checks.
 */
export async function expectError(response: Response, status: number, type: string): Promise<ErrorEnvelope> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = await json<ErrorEnvelope>(response);
  expect(Object.keys(body).sort()).toEqual(["details", "error", "request_id", "type"]);
  expect(body.type).toBe(type);
  expect(typeof body.error).toBe("string");
  expect(body.error.length).toBeGreaterThan(0);
  expect(Object.prototype.toString.call(body.details), "details is a plain object").toBe("[object Object]");
  expect(body.request_id).toBe(response.headers.get("X-Request-Id"));
  return body;
}

/** The test KV namespace, counting reads: each `get` is one round trip, whatever number of keys it asks for. */
export function countingKV(): { kv: KVNamespace; reads: () => number } {
  let reads = 0;
  const kv = new Proxy(env.KV, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (property === "get") {
        return (...args: unknown[]) => {
          reads += 1;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv, reads: () => reads };
}

export type Issue = { path: string; message: string };

/**
 * A 400 ValidationError whose `details` is exactly `{ issues }`, each issue exactly a `path` and
 * a non-empty `message`, naming exactly these paths (each at least once). Returns the issues.
 */
export async function expectIssues(response: Response, paths: string[]): Promise<Issue[]> {
  const body = await expectError(response, 400, "ValidationError");
  expect(body.details).toEqual({ issues: expect.any(Array) });
  const issues = (body.details?.issues ?? []) as Issue[];
  expect(issues.length).toBeGreaterThan(0);
  for (const issue of issues) {
    expect(issue).toEqual({ path: expect.any(String), message: expect.any(String) });
    expect(issue.message.length).toBeGreaterThan(0);
  }
  expect([...new Set(issues.map((issue) => issue.path))].sort()).toEqual([...paths].sort());
  return issues;
}
