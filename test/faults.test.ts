import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { isTransientD1Error, resilientD1 } from "../src/db/resilient-d1";
import { flakyD1, instrumentD1 } from "./d1-instrument";
import { BASE, createPost, createUser, expectError, fetchSettled, json } from "./helpers";
import { userRecordsWith } from "./user-records";

function call(path: string, init: RequestInit, DB: D1Database) {
  return fetchSettled(new Request(`${BASE}${path}`, init), { DB });
}

const countRows = async (table: string, where: string, value: string) =>
  (await env.DB.prepare(`select count(*) as n from ${table} where ${where} = ?`).bind(value).first<{ n: number }>())
    ?.n ?? -1;

describe("transient D1 failures", () => {
  it("classifies D1's transient messages", () => {
    expect(isTransientD1Error(new Error("D1_ERROR: Network connection lost."))).toBe(true);
    expect(isTransientD1Error(new Error("D1 DB is overloaded. Too many requests queued."))).toBe(true);
    expect(isTransientD1Error(new Error("D1_ERROR: UNIQUE constraint failed: users.email"))).toBe(false);
  });

  it("retries a read and answers as if nothing happened", async () => {
    const author = await createUser();
    const post = await createPost(author.access_token, { status: "draft" });
    const { db, state } = flakyD1(env.DB, (n) => n <= 2);
    const response = await call(
      `/v1/posts/${post.id}`,
      { headers: { Authorization: `Bearer ${author.access_token}` } },
      db,
    );
    expect(response.status).toBe(200);
    expect((await json<{ id: string }>(response)).id).toBe(post.id);
    expect(state.failures).toBe(2);
  });

  it("gives up on reads after bounded retries with a 503", async () => {
    const author = await createUser();
    const { db, state } = flakyD1(env.DB, () => true);
    const response = await call("/v1/users/me", { headers: { Authorization: `Bearer ${author.access_token}` } }, db);
    const body = await expectError(response, 503, "ServiceUnavailableError");
    expect(body.details).toEqual({ dependency: "d1" });
    expect(state.calls).toBe(3);
  });

  it("never retries a write: 503, and nothing half-written", async () => {
    const author = await createUser();
    // Fail the first write statement (the batch or insert of the new post); reads pass.
    const { db, state } = flakyD1(env.DB, (_n, sql) => sql === "batch" || /^insert/i.test(sql));
    // The same create, sent once against the failing D1 and once against the real one.
    const create = (d1: D1Database) =>
      call(
        "/v1/posts",
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${author.access_token}`,
            "Content-Type": "application/json",
            "Idempotency-Key": "fault-1",
          },
          body: JSON.stringify({ title: "Never half-written", content: "x" }),
        },
        d1,
      );
    const response = await create(db);
    await expectError(response, 503, "ServiceUnavailableError");
    expect(state.failures).toBe(1);
    expect(await countRows("posts", "author_id", author.id)).toBe(0);
    expect(await countRows("idempotency_keys", "user_id", author.id)).toBe(0);
    // The same request succeeds once D1 is back, exactly once.
    const retry = await create(env.DB);
    expect(retry.status).toBe(201);
    expect(await countRows("posts", "author_id", author.id)).toBe(1);
  });

  it("a failure on the Nth call of a sign-up leaves no user without a session", async () => {
    for (let n = 1; n <= 3; n++) {
      const email = `fault-${n}-${Date.now()}@example.com`;
      const { db } = flakyD1(env.DB, (call) => call === n);
      const response = await call(
        "/v1/auth/register",
        {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ email, name: "F", password: "long enough pw" }),
        },
        db,
      );
      expect([201, 503]).toContain(response.status);
      const users = await env.DB.prepare("select id from users where email = ?").bind(email).all<{ id: string }>();
      if (response.status === 201) {
        expect(users.results).toHaveLength(1);
      } else {
        expect(users.results).toHaveLength(0);
      }
      const id = users.results[0]?.id;
      if (id) expect(await countRows("refresh_tokens", "user_id", id)).toBe(1);
    }
  });

  it("the resilient wrapper passes non-transient errors through untouched", async () => {
    const failing = {
      prepare: () => ({
        bind() {
          return this;
        },
        all: () => Promise.reject(new Error("D1_ERROR: no such column: nope")),
      }),
    } as unknown as D1Database;
    const db = resilientD1(failing, { attempts: 3, baseDelayMs: 0, sleep: async () => undefined });
    await expect(db.prepare("select nope").bind().all()).rejects.toThrow("no such column");
  });
});

describe("500 log lines", () => {
  it("never carry bound query parameters (emails, hashes)", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    /** Fault injector: batches fail with a non-transient error. */
    const brokenD1 = instrumentD1(env.DB, (sql) => {
      if (sql === "batch") throw new Error("D1_ERROR: disk I/O error");
    });
    const email = `leak-${Date.now()}@example.com`;
    const response = await call(
      "/v1/auth/register",
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email, name: "Leak", password: "long enough pw" }),
      },
      brokenD1,
    );
    await expectError(response, 500, "InternalError");
    const line = String(log.mock.calls.at(-1)?.[0]);
    expect(line).toContain("disk I/O error");
    expect(line).not.toContain("pbkdf2");
    expect(line).not.toContain(email);
    log.mockRestore();
  });
});

describe("the auth path and its dependencies", () => {
  it("fails closed: when the user record cannot be read, a token is not honoured (503)", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const user = await createUser();
    const unreachable = userRecordsWith(["read"]);
    const response = await fetchSettled(
      new Request(`${BASE}/v1/users/me`, { headers: { Authorization: `Bearer ${user.access_token}` } }),
      { USER_RECORDS: unreachable.namespace },
    );
    const body = await expectError(response, 503, "ServiceUnavailableError");
    expect(body.details).toEqual({ dependency: "user_record" });
    vi.restoreAllMocks();
  });

  it("KV is not on it any more: with every KV call failing, a signed-in read still answers", async () => {
    const user = await createUser();
    /** Fault injector: a KV namespace whose every call throws. */
    const throwingKV = new Proxy({} as KVNamespace, {
      get: () => () => Promise.reject(new Error("KV is down (injected)")),
    });
    const response = await fetchSettled(
      new Request(`${BASE}/v1/users/me`, { headers: { Authorization: `Bearer ${user.access_token}` } }),
      { KV: throwingKV },
    );
    expect(response.status).toBe(200);
  });
});
