import { ServiceUnavailableError } from "../errors";
import { timed } from "../lib/timing";

/** D1's own words for failures worth another try (the platform docs list these as retryable). */
const TRANSIENT = [
  "network connection lost",
  "storage caused object to be reset",
  "reset because its code was updated",
  "internal error",
  "overloaded",
  "timeout",
  "timed out",
  "transient",
  "cannot resolve d1 db",
  "d1 db is unavailable",
];

export function isTransientD1Error(error: unknown): boolean {
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}`.toLowerCase() : "";
  return TRANSIENT.some((fragment) => message.includes(fragment));
}

export class D1UnavailableError extends ServiceUnavailableError {
  constructor() {
    super("The database is temporarily unavailable, try again shortly", { dependency: "d1" });
  }
}

export type RetryPolicy = {
  /** Total attempts for a read, the first included. */
  attempts: number;
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 3,
  baseDelayMs: 25,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Statements that only read, so running them twice is harmless. */
function isReadOnly(sql: string): boolean {
  const text = sql.trimStart().toLowerCase();
  return (text.startsWith("select") || text.startsWith("with")) && !/\b(insert|update|delete|replace)\b/.test(text);
}

async function withRetries<T>(readOnly: boolean, policy: RetryPolicy, run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (!isTransientD1Error(error)) throw error;
      // Writes are never replayed blindly: the first attempt may have committed.
      if (!readOnly || attempt >= policy.attempts) throw new D1UnavailableError();
      // Exponential backoff with full jitter, bounded by `attempts`.
      await policy.sleep(Math.random() * policy.baseDelayMs * 2 ** attempt);
    }
  }
}

/** What queries need of a D1 database or a D1 session. */
export type D1Like = Pick<D1Database, "prepare" | "batch">;

const EXECUTORS = new Set<PropertyKey>(["all", "first", "run", "raw"]);

/**
 * D1 with bounded retries of transient failures on read-only statements and batches, and a 503
 * (`D1UnavailableError`) when D1 stays unreachable or a write hits a transient failure.
 * `onRoundTrip` receives the time of each execution or batch, retries included.
 */
export function resilientD1<T extends D1Like>(
  d1: T,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  onRoundTrip: (ms: number) => void = () => undefined,
): T {
  // Each wrapped statement remembers its SQL and the real statement that `batch` must receive.
  const known = new WeakMap<D1PreparedStatement, { original: D1PreparedStatement; sql: string }>();

  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (property === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        if (EXECUTORS.has(property)) {
          const execute = value as (...a: unknown[]) => Promise<unknown>;
          return (...args: unknown[]) =>
            timed(() => withRetries(isReadOnly(sql), policy, () => execute.apply(target, args)), onRoundTrip);
        }
        return value.bind(target);
      },
    });
    known.set(proxy, { original: statement, sql });
    return proxy;
  };

  return new Proxy(d1, {
    get(target, property, receiver) {
      if (property === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (property === "batch") {
        return (statements: D1PreparedStatement[]) => {
          const entries = statements.map((statement) => known.get(statement));
          // A batch is one transaction: retry it only if every statement in it reads.
          const readOnly = entries.every((entry) => entry !== undefined && isReadOnly(entry.sql));
          const originals = statements.map((statement, index) => entries[index]?.original ?? statement);
          return timed(() => withRetries(readOnly, policy, () => target.batch(originals)), onRoundTrip);
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
