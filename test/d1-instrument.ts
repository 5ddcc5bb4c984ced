/**
 * Wraps the real D1 binding (and the sessions it opens) with a hook that runs before each round
 * trip: statement executions and batches. Every call still reaches the real database unless the
 * hook throws, which is how fault injectors built on it fail a call.
 */
export function instrumentD1(inner: D1Database, beforeCall: (sql: string) => void): D1Database {
  const executors = new Set<PropertyKey>(["all", "first", "run", "raw"]);
  const originals = new WeakMap<D1PreparedStatement, D1PreparedStatement>();

  const wrapStatement = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (property === "bind") return (...args: unknown[]) => wrapStatement(target.bind(...args), sql);
        if (executors.has(property)) {
          return async (...args: unknown[]) => {
            beforeCall(sql);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return value.bind(target);
      },
    });
    originals.set(proxy, statement);
    return proxy;
  };

  const wrapQueryable = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        if (property === "prepare") {
          return (sql: string) => wrapStatement((object as unknown as D1Database).prepare(sql), sql);
        }
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            beforeCall("batch");
            return (object as unknown as D1Database).batch(statements.map((s) => originals.get(s) ?? s));
          };
        }
        if (property === "withSession") {
          return (constraint?: string) => wrapQueryable((object as unknown as D1Database).withSession(constraint));
        }
        const value = Reflect.get(object, property, receiver);
        return typeof value === "function" ? value.bind(object) : value;
      },
    });

  return wrapQueryable(inner);
}

/** Counts D1 round trips (statement executions and batches) against the real database. */
export function countingD1(inner: D1Database) {
  const counter = { queries: 0 };
  const db = instrumentD1(inner, () => {
    counter.queries += 1;
  });
  return { db, counter };
}

/**
 * Fault injector around the real D1: the calls for which `failOn(callNumber, sql)` is true throw
 * a transient D1 error instead of running; everything else reaches the real database.
 */
export function flakyD1(inner: D1Database, failOn: (call: number, sql: string) => boolean) {
  const state = { calls: 0, failures: 0 };
  const db = instrumentD1(inner, (sql) => {
    state.calls += 1;
    if (failOn(state.calls, sql)) {
      state.failures += 1;
      throw new Error("D1_ERROR: Network connection lost. (injected)");
    }
  });
  return { db, state };
}
