import { getTableName, lte, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Db } from "./client";
import { IDEMPOTENCY_WINDOW_MS } from "./idempotency";
import { idempotencyKeys, oneTimeTokens, refreshTokens } from "./schema";

/** A table whose dead rows the cron deletes. The table must have a rowid (not `WITHOUT ROWID`). */
export type PruneTarget = {
  table: SQLiteTable;
  /**
   * Rows deleted by one statement. A D1 database runs one query at a time, so requests queue
   * behind a delete: a batch stays small enough to take milliseconds, not seconds.
   */
  batchRows: number;
  /** The rows that are of no use any more at `nowMs`. Must be answerable from an index. */
  dead: (nowMs: number) => SQL;
};

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * What the cron prunes, one entry per table. Expired refresh tokens are rejected whatever their
 * rotated/revoked state (routes/auth.ts), so an expired row, of a revoked family or not, no longer
 * takes part in anything; a revoked row that has not expired yet is kept (it still marks its
 * family as revoked). One-time tokens are dead once used or expired; an index on each of the two
 * columns lets SQLite answer the OR from them (test/housekeeping.test.ts checks every entry's plan).
 */
export const PRUNE_TARGETS: readonly PruneTarget[] = [
  { table: refreshTokens, batchRows: 1000, dead: (nowMs) => lte(refreshTokens.expiresAt, iso(nowMs)) },
  // Up to ~600 KB a row (a stored response), so a tenth of the rows per statement.
  {
    table: idempotencyKeys,
    batchRows: 100,
    dead: (nowMs) => lte(idempotencyKeys.createdAt, iso(nowMs - IDEMPOTENCY_WINDOW_MS)),
  },
  {
    table: oneTimeTokens,
    batchRows: 1000,
    // `used_at <= now` rather than `is not null`: SQLite answers an OR of two ranges from the two
    // indexes, but plans a scan for an `is not null` term.
    dead: (nowMs) => or(lte(oneTimeTokens.expiresAt, iso(nowMs)), lte(oneTimeTokens.usedAt, iso(nowMs))) as SQL,
  },
];

/** Statements per table per run: with `batchRows` this bounds the work one run does. */
export const PRUNE_MAX_BATCHES_PER_RUN = 10;

/**
 * One batch: up to `batchRows` dead rows, picked through the index (SQLite's DELETE has no LIMIT
 * unless compiled with it). Two bound parameters, far below D1's 100.
 */
export function pruneBatchStatement(target: PruneTarget, nowMs: number): SQL {
  return sql`delete from ${target.table} where rowid in (select rowid from ${target.table} where ${target.dead(nowMs)} limit ${target.batchRows})`;
}

export type PruneOutcome = {
  table: string;
  deleted: number;
  /** The run stopped at its bound with a full last batch: rows may remain for the next run. */
  unfinished: boolean;
  error?: unknown;
};

/**
 * Deletes dead rows table by table, at most `PRUNE_MAX_BATCHES_PER_RUN` batches each. A failing
 * table does not stop the others; deleting is idempotent, so the next run simply carries on.
 */
export async function pruneExpired(db: Db, nowMs: number): Promise<PruneOutcome[]> {
  const outcomes: PruneOutcome[] = [];
  for (const target of PRUNE_TARGETS) {
    const outcome: PruneOutcome = { table: getTableName(target.table), deleted: 0, unfinished: false };
    try {
      for (let batch = 0; batch < PRUNE_MAX_BATCHES_PER_RUN; batch++) {
        const { changes } = (await db.run(pruneBatchStatement(target, nowMs))).meta;
        outcome.deleted += changes;
        outcome.unfinished = changes >= target.batchRows;
        if (!outcome.unfinished) break;
      }
    } catch (error) {
      outcome.error = error;
    }
    outcomes.push(outcome);
  }
  return outcomes;
}

/** D1's own message (Drizzle wraps it in one that repeats the statement and its parameters). */
function errorSummary(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  return (cause instanceof Error ? cause.message : String(cause)).slice(0, 300);
}

/**
 * The cron's work: prunes with the trigger's scheduled time as "now" and logs one JSON line with
 * the number of rows removed per table (never row contents). Throws after logging if a table
 * failed, so the invocation shows as failed.
 */
export async function runHousekeeping(db: Db, controller: Pick<ScheduledController, "cron" | "scheduledTime">) {
  const started = performance.now();
  const outcomes = await pruneExpired(db, controller.scheduledTime);
  const failed = outcomes.filter((outcome) => outcome.error !== undefined);
  const line = {
    level: failed.length > 0 ? "error" : "info",
    msg: "housekeeping",
    cron: controller.cron,
    scheduled_time: iso(controller.scheduledTime),
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    deleted: Object.fromEntries(outcomes.map((outcome) => [outcome.table, outcome.deleted])),
    unfinished: outcomes.filter((outcome) => outcome.unfinished).map((outcome) => outcome.table),
    failed:
      failed.length > 0
        ? Object.fromEntries(failed.map((outcome) => [outcome.table, errorSummary(outcome.error)]))
        : undefined,
  };
  console.log(JSON.stringify(line));
  const [first] = failed;
  if (first) throw first.error;
}
