import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getTableName } from "drizzle-orm";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { PRUNE_MAX_BATCHES_PER_RUN, PRUNE_TARGETS, pruneBatchStatement } from "../src/db/housekeeping";
import { IDEMPOTENCY_WINDOW_MS } from "../src/db/idempotency";
import worker from "../src/index";
import { api, createUser, json } from "./helpers";

const CRON = "*/15 * * * *";
const HOUR_MS = 60 * 60 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();

type HousekeepingLine = {
  level: string;
  msg: string;
  cron: string;
  scheduled_time: string;
  duration_ms: number;
  deleted: Record<string, number>;
  unfinished: string[];
  failed?: Record<string, string>;
};

/** Rows one run may delete from a table: its batch size times the batches per run. */
function runBound(table: string): number {
  const target = PRUNE_TARGETS.find((candidate) => getTableName(candidate.table) === table);
  if (!target) throw new Error(`no prune target for ${table}`);
  return target.batchRows * PRUNE_MAX_BATCHES_PER_RUN;
}

/**
 * Runs the Worker's real `scheduled` export as a Cron Trigger would at `scheduledTime`, and
 * returns every line it wrote to the console.
 */
async function runCron(scheduledTime: number): Promise<{ lines: string[]; outcome: Promise<void> }> {
  const spies = (["log", "info", "warn", "error"] as const).map((method) =>
    vi.spyOn(console, method).mockImplementation(() => undefined),
  );
  const scheduled: ExportedHandlerScheduledHandler<Cloudflare.Env> = worker.scheduled;
  const ctx = createExecutionContext();
  const outcome = Promise.resolve(scheduled(createScheduledController({ scheduledTime, cron: CRON }), env, ctx));
  await outcome.catch(() => undefined);
  await waitOnExecutionContext(ctx);
  const lines = spies.flatMap((spy) => spy.mock.calls.map(([line]) => String(line)));
  for (const spy of spies) spy.mockRestore();
  return { lines, outcome };
}

/** A run that must succeed: returns its one log line, parsed. */
async function runCronOk(scheduledTime: number): Promise<HousekeepingLine> {
  const { lines, outcome } = await runCron(scheduledTime);
  await outcome;
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] ?? "") as HousekeepingLine;
}

async function insertRefreshToken(
  userId: string,
  id: string,
  expiresAtMs: number,
  state: { rotated?: boolean; revoked?: boolean } = {},
): Promise<void> {
  const created = iso(expiresAtMs - 30 * 24 * HOUR_MS);
  await env.DB.prepare(
    `insert into refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at, rotated_at, revoked_at)
     values (?, ?, ?, ?, ?, ?, ?, ?)`,
  )
    .bind(
      id,
      userId,
      `family-${id}`,
      `hash-${id}`,
      created,
      iso(expiresAtMs),
      state.rotated ? created : null,
      state.revoked ? created : null,
    )
    .run();
}

async function insertIdempotencyRecord(userId: string, key: string, createdAtMs: number, body = "{}"): Promise<void> {
  await env.DB.prepare(
    `insert into idempotency_keys (user_id, key, request_hash, response_status, response_body, created_at)
     values (?, ?, ?, 201, ?, ?)`,
  )
    .bind(userId, key, `request-hash-${key}`, body, iso(createdAtMs))
    .run();
}

/** Expired rows in bulk, one statement per table (a recursive CTE keeps the bound parameters few). */
async function insertManyExpired(userId: string, counts: { tokens: number; records: number }, nowMs: number) {
  await env.DB.batch([
    env.DB.prepare(
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
       insert into refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at)
       select 'bulk-' || i, ?, 'bulk-family-' || (i / 3), 'bulk-hash-' || i, ?, ? from n`,
    ).bind(counts.tokens, userId, iso(nowMs - 31 * 24 * HOUR_MS), iso(nowMs - HOUR_MS)),
    env.DB.prepare(
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?)
       insert into idempotency_keys (user_id, key, request_hash, response_status, response_body, created_at)
       select ?, 'bulk-' || i, 'request-hash', 201, '{}', ? from n`,
    ).bind(counts.records, userId, iso(nowMs - IDEMPOTENCY_WINDOW_MS - HOUR_MS)),
  ]);
}

async function insertOneTimeToken(
  userId: string,
  tokenHash: string,
  expiresAtMs: number,
  state: { used?: boolean; purpose?: "password_reset" | "email_verification" } = {},
): Promise<void> {
  const created = iso(expiresAtMs - HOUR_MS);
  await env.DB.prepare(
    `insert into one_time_tokens (token_hash, user_id, purpose, created_at, expires_at, used_at)
     values (?, ?, ?, ?, ?, ?)`,
  )
    .bind(tokenHash, userId, state.purpose ?? "password_reset", created, iso(expiresAtMs), state.used ? created : null)
    .run();
}

async function oneTimeTokenHashes(): Promise<string[]> {
  const rows = await env.DB.prepare("select token_hash from one_time_tokens order by token_hash").all<{
    token_hash: string;
  }>();
  return rows.results.map((row) => row.token_hash);
}

async function ids(table: "refresh_tokens" | "idempotency_keys", userId: string): Promise<string[]> {
  const column = table === "refresh_tokens" ? "id" : "key";
  const rows = await env.DB.prepare(`select ${column} as id from ${table} where user_id = ? order by ${column}`)
    .bind(userId)
    .all<{ id: string }>();
  return rows.results.map((row) => row.id);
}

async function count(table: "refresh_tokens" | "idempotency_keys"): Promise<number> {
  return (await env.DB.prepare(`select count(*) as n from ${table}`).first<number>("n")) ?? 0;
}

// Storage is shared by the tests of this file: each starts without tokens or stored responses,
// so a run's counts are exactly what the test inserted.
beforeEach(async () => {
  await env.DB.batch([
    env.DB.prepare("delete from refresh_tokens"),
    env.DB.prepare("delete from idempotency_keys"),
    env.DB.prepare("delete from one_time_tokens"),
  ]);
});

describe("scheduled housekeeping", () => {
  it("deletes expired refresh tokens and idempotency records and keeps the live ones", async () => {
    const now = Date.now();
    const user = await createUser();
    const [registered] = await ids("refresh_tokens", user.id);
    await insertRefreshToken(user.id, "rt-expired", now - 1000);
    await insertRefreshToken(user.id, "rt-expires-now", now);
    await insertRefreshToken(user.id, "rt-revoked-expired", now - HOUR_MS, { rotated: true, revoked: true });
    // Still marks its family as revoked until it expires.
    await insertRefreshToken(user.id, "rt-revoked-live", now + HOUR_MS, { revoked: true });
    await insertRefreshToken(user.id, "rt-live", now + 1000);
    await insertIdempotencyRecord(user.id, "ik-25h", now - IDEMPOTENCY_WINDOW_MS - HOUR_MS);
    await insertIdempotencyRecord(user.id, "ik-24h", now - IDEMPOTENCY_WINDOW_MS);
    await insertIdempotencyRecord(user.id, "ik-23h", now - IDEMPOTENCY_WINDOW_MS + HOUR_MS);
    await insertIdempotencyRecord(user.id, "ik-now", now);

    const line = await runCronOk(now);

    expect(line.deleted).toEqual({ refresh_tokens: 3, idempotency_keys: 2, one_time_tokens: 0 });
    expect(line.unfinished).toEqual([]);
    expect(await ids("refresh_tokens", user.id)).toEqual([registered, "rt-live", "rt-revoked-live"].sort());
    expect(await ids("idempotency_keys", user.id)).toEqual(["ik-23h", "ik-now"]);
    // The session made at registration still works.
    const refreshed = await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: user.refresh_token } });
    expect(refreshed.status).toBe(200);
  });

  it("deletes used or expired one-time tokens and keeps the usable ones", async () => {
    const now = Date.now();
    const user = await createUser();
    await insertOneTimeToken(user.id, "ott-expired", now - 1000);
    await insertOneTimeToken(user.id, "ott-expires-now", now);
    await insertOneTimeToken(user.id, "ott-used-live", now + HOUR_MS, { used: true });
    await insertOneTimeToken(user.id, "ott-used-expired", now - HOUR_MS, { used: true, purpose: "email_verification" });
    await insertOneTimeToken(user.id, "ott-live-reset", now + 1000);
    await insertOneTimeToken(user.id, "ott-live-verify", now + HOUR_MS, { purpose: "email_verification" });

    const line = await runCronOk(now);

    expect(line.deleted).toEqual({ refresh_tokens: 0, idempotency_keys: 0, one_time_tokens: 4 });
    expect(await oneTimeTokenHashes()).toEqual(["ott-live-reset", "ott-live-verify"]);
  });

  it("leaves a stored response inside its 24 h answering retries", async () => {
    const user = await createUser();
    const headers = { "Idempotency-Key": `key-${crypto.randomUUID()}` };
    const body = { title: "Kept", content: "still replayed", status: "published" };
    const first = await api("/v1/posts", { method: "POST", token: user.access_token, headers, body });
    expect(first.status).toBe(201);
    const created = await json<{ id: string }>(first);

    const line = await runCronOk(Date.now() + IDEMPOTENCY_WINDOW_MS - HOUR_MS);
    expect(line.deleted.idempotency_keys).toBe(0);

    const retry = await api("/v1/posts", { method: "POST", token: user.access_token, headers, body });
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect((await json<{ id: string }>(retry)).id).toBe(created.id);

    // Once its 24 h are over, a run removes it.
    const later = await runCronOk(Date.now() + IDEMPOTENCY_WINDOW_MS + HOUR_MS);
    expect(later.deleted.idempotency_keys).toBe(1);
    expect(await count("idempotency_keys")).toBe(0);
  });

  it("deletes exactly its bound per table in one run; the next run deletes the rest", async () => {
    const now = Date.now();
    const user = await createUser();
    const [registered] = await ids("refresh_tokens", user.id);
    const extra = 7;
    const tokenBound = runBound("refresh_tokens");
    const recordBound = runBound("idempotency_keys");
    await insertManyExpired(user.id, { tokens: tokenBound + extra, records: recordBound + extra }, now);
    await insertRefreshToken(user.id, "rt-live", now + HOUR_MS);
    await insertIdempotencyRecord(user.id, "ik-live", now);

    const first = await runCronOk(now);
    expect(first.deleted).toEqual({ refresh_tokens: tokenBound, idempotency_keys: recordBound, one_time_tokens: 0 });
    expect(first.unfinished.sort()).toEqual(["idempotency_keys", "refresh_tokens"]);
    expect(await count("refresh_tokens")).toBe(extra + 2);
    expect(await count("idempotency_keys")).toBe(extra + 1);

    const second = await runCronOk(now);
    expect(second.deleted).toEqual({ refresh_tokens: extra, idempotency_keys: extra, one_time_tokens: 0 });
    expect(second.unfinished).toEqual([]);
    expect(await ids("refresh_tokens", user.id)).toEqual([registered, "rt-live"].sort());
    expect(await ids("idempotency_keys", user.id)).toEqual(["ik-live"]);
  });

  it("logs one JSON line per run with the counts per table and never a row's contents", async () => {
    const now = Date.now();
    const user = await createUser();
    const secretBody = JSON.stringify({ id: "post-secret-body", title: "private draft" });
    await insertRefreshToken(user.id, "rt-expired-for-log", now - 1);
    await insertIdempotencyRecord(user.id, "ik-expired-for-log", now - IDEMPOTENCY_WINDOW_MS - 1, secretBody);
    await insertIdempotencyRecord(user.id, "ik-expired-for-log-2", now - IDEMPOTENCY_WINDOW_MS - 1, secretBody);

    const { lines, outcome } = await runCron(now);
    await outcome;

    expect(lines).toHaveLength(1);
    const [text = ""] = lines;
    expect(JSON.parse(text)).toEqual({
      level: "info",
      msg: "housekeeping",
      cron: CRON,
      scheduled_time: iso(now),
      duration_ms: expect.any(Number),
      deleted: { refresh_tokens: 1, idempotency_keys: 2, one_time_tokens: 0 },
      unfinished: [],
    });
    for (const secret of [
      user.id,
      user.email,
      "rt-expired-for-log",
      "hash-",
      "ik-expired-for-log",
      "post-secret-body",
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it("a run with nothing to delete logs zeros", async () => {
    const line = await runCronOk(Date.now());
    expect(line.deleted).toEqual({ refresh_tokens: 0, idempotency_keys: 0, one_time_tokens: 0 });
    expect(line.unfinished).toEqual([]);
  });

  // Fault injection: the idempotency table is renamed away for the run, so its statement fails.
  it("a table that fails does not stop the others; the run logs at error level and fails", async () => {
    const now = Date.now();
    const user = await createUser();
    await insertRefreshToken(user.id, "rt-expired", now - 1000);
    await env.DB.prepare("alter table idempotency_keys rename to idempotency_keys_away").run();
    try {
      const { lines, outcome } = await runCron(now);
      await expect(outcome).rejects.toThrow(/idempotency_keys/);
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0] ?? "") as HousekeepingLine;
      expect(line.level).toBe("error");
      expect(line.deleted).toEqual({ refresh_tokens: 1, idempotency_keys: 0, one_time_tokens: 0 });
      expect(line.failed).toEqual({ idempotency_keys: expect.stringMatching(/no such table/) });
    } finally {
      await env.DB.prepare("alter table idempotency_keys_away rename to idempotency_keys").run();
    }
    expect(await ids("refresh_tokens", user.id)).not.toContain("rt-expired");
  });
});

describe("prune batch statements", () => {
  const dialect = new SQLiteSyncDialect();

  it.each(PRUNE_TARGETS.map((target) => [getTableName(target.table), target] as const))(
    "%s: a handful of bound parameters, and the dead rows are found through an index",
    async (table, target) => {
      const { sql, params } = dialect.sqlToQuery(pruneBatchStatement(target, Date.now()));
      expect(params.length).toBeLessThanOrEqual(100);
      expect(sql).toMatch(/limit \?\)$/);
      const plan = await env.DB.prepare(`explain query plan ${sql}`)
        .bind(...params)
        .all<{ detail: string }>();
      const steps = plan.results.map((row) => row.detail);
      const text = steps.join(" | ");
      // The dead rows' rowids come from an index range; each is then deleted by rowid.
      expect(text, text).toMatch(new RegExp(`SEARCH ${table} USING (COVERING )?INDEX ${table}_\\w+_idx`));
      expect(text, text).toMatch(new RegExp(`SEARCH ${table} USING INTEGER PRIMARY KEY \\(rowid=\\?\\)`));
      for (const step of steps) if (/^SCAN /.test(step)) expect(step, text).toMatch(/USING (COVERING )?INDEX/);
    },
  );
});
