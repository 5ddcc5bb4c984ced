/**
 * Lag-injecting wrapper over real local D1: a primary database and one read replica per location
 * (separate local D1 databases), with D1's session semantics:
 * - writes always run on the primary, which logs them in commit order;
 * - a replica holds the primary's state at some position of that log and only moves forward
 *   when the test calls `catchUp` (controlled replica lag);
 * - `first-primary` reads the primary; `first-unconstrained` may read a stale replica; a session
 *   opened at a bookmark (or that has read or written at one) never reads older than it.
 * Bookmarks name log positions and sort like D1's. Replicas replay the logged statements, so
 * the Worker's SQL must be deterministic (times are bound by the Worker, never `now()` in SQL).
 */
type Statement = { sql: string; params: unknown[] };
type Method = "all" | "first" | "run" | "raw";

export type D1Faults = {
  /** The write commits on the primary, then the Worker is told the connection was lost. */
  loseAcknowledgement?: (statements: Statement[]) => boolean;
  /** Runs before a write is sent to the primary (to interleave another request there). */
  beforeWrite?: (statements: Statement[]) => Promise<void>;
};

function isWrite(sql: string): boolean {
  const text = sql.trimStart().toLowerCase();
  return !((text.startsWith("select") || text.startsWith("with")) && !/\b(insert|update|delete|replace)\b/.test(text));
}

export function formatBookmark(position: number): string {
  return `${position.toString(16).padStart(8, "0")}-00000000-00000000-${"0".repeat(32)}`;
}

function parseBookmark(bookmark: string): number {
  const position = Number.parseInt(bookmark.slice(0, 8), 16);
  if (!Number.isFinite(position)) throw new Error(`not a simulated bookmark: ${bookmark}`);
  return position;
}

export class D1ReplicaLagSimulator {
  private log: Statement[][] = [];
  private readonly replicaPositions = new Map<string, number>();
  faults: D1Faults = {};
  /** Reads served by each kind of instance, for reports. */
  readonly served = { primary: 0, replica: 0 };

  constructor(
    readonly primary: D1Database,
    private readonly replicas: Record<string, D1Database>,
  ) {
    for (const location of Object.keys(replicas)) this.replicaPositions.set(location, 0);
  }

  /** The next write with a statement matching `pattern` commits, then its acknowledgement is lost. */
  loseNextAcknowledgement(pattern: RegExp): void {
    let armed = true;
    this.faults.loseAcknowledgement = (statements) => {
      if (!armed || !statements.some((statement) => pattern.test(statement.sql))) return false;
      armed = false;
      return true;
    };
  }

  /** The newest committed position on the primary. */
  get position(): number {
    return this.log.length;
  }

  replicaPosition(location: string): number {
    return this.replicaPositions.get(location) ?? 0;
  }

  /** The D1 binding as the Worker at `location` sees it. */
  databaseAt(location: string): D1Database {
    const open = (constraintOrBookmark?: string) => new SimulatedSession(this, location, constraintOrBookmark);
    return {
      withSession: open,
      prepare: (sql: string) => open("first-primary").prepare(sql),
      batch: (statements: D1PreparedStatement[]) => open("first-primary").batch(statements),
    } as unknown as D1Database;
  }

  /** Replays the log onto a location's replica up to `upTo` (default: everything). */
  async catchUp(location: string, upTo = this.position): Promise<void> {
    const replica = this.replica(location);
    let position = this.replicaPosition(location);
    while (position < Math.min(upTo, this.position)) {
      const entry = this.log[position] ?? [];
      await replica.batch(entry.map(({ sql, params }) => replica.prepare(sql).bind(...params)));
      position += 1;
      this.replicaPositions.set(location, position);
    }
  }

  async catchUpAll(): Promise<void> {
    for (const location of Object.keys(this.replicas)) await this.catchUp(location);
  }

  /** Runs statements on the primary as a write made outside the Worker (a test's own setup). */
  async writeOnPrimary(statements: Statement[]): Promise<void> {
    await this.commit(statements, (db) => db.batch(statements.map((s) => db.prepare(s.sql).bind(...s.params))));
  }

  /**
   * Empties every table on the primary and the replicas, and forgets the log. Full-text indexes
   * (virtual tables and their shadow tables, which refuse direct writes) are rebuilt from the
   * emptied tables instead.
   */
  async wipe(): Promise<void> {
    for (const db of [this.primary, ...Object.values(this.replicas)]) {
      const tables = await db
        .prepare(
          "select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'd1_%' and name not like '\\_%' escape '\\'",
        )
        .all<{ name: string; sql: string | null }>();
      const indexes = tables.results
        .filter(({ sql }) => /^create virtual table/i.test(sql ?? ""))
        .map(({ name }) => name);
      const plain = tables.results.filter(
        ({ name }) => !indexes.some((index) => name === index || name.startsWith(`${index}_`)),
      );
      await db.batch([
        db.prepare("pragma defer_foreign_keys = on"),
        ...plain.map(({ name }) => db.prepare(`delete from "${name}"`)),
        ...indexes.map((index) => db.prepare(`insert into "${index}"("${index}") values ('rebuild')`)),
      ]);
    }
    this.log = [];
    for (const location of this.replicaPositions.keys()) this.replicaPositions.set(location, 0);
  }

  /** @internal Executes for a session; returns the result and the position it reflects. */
  async execute(
    location: string,
    floor: number,
    statements: Statement[],
    run: (db: D1Database) => Promise<unknown>,
  ): Promise<{ result: unknown; position: number }> {
    if (statements.some((statement) => isWrite(statement.sql))) {
      const result = await this.commit(statements, run);
      return { result, position: this.position };
    }
    if (this.replicaPosition(location) >= floor) {
      this.served.replica += 1;
      return { result: await run(this.replica(location)), position: this.replicaPosition(location) };
    }
    this.served.primary += 1;
    return { result: await run(this.primary), position: this.position };
  }

  private async commit(statements: Statement[], run: (db: D1Database) => Promise<unknown>): Promise<unknown> {
    await this.faults.beforeWrite?.(statements);
    const result = await run(this.primary);
    this.log.push(statements);
    if (this.faults.loseAcknowledgement?.(statements)) {
      throw new Error("D1_ERROR: Network connection lost. (simulated: committed, acknowledgement lost)");
    }
    return result;
  }

  private replica(location: string): D1Database {
    const replica = this.replicas[location];
    if (!replica) throw new Error(`no replica for location ${location}`);
    return replica;
  }
}

class SimulatedSession {
  private floor: number;
  private started: boolean;

  constructor(
    private readonly sim: D1ReplicaLagSimulator,
    private readonly location: string,
    private readonly constraint: string | undefined,
  ) {
    const fromBookmark = constraint !== undefined && constraint.startsWith("first-") === false;
    this.floor = fromBookmark ? parseBookmark(constraint) : 0;
    this.started = fromBookmark;
  }

  prepare(sql: string): SimulatedStatement {
    return new SimulatedStatement(this, { sql, params: [] });
  }

  async batch(statements: D1PreparedStatement[]): Promise<D1Result[]> {
    const specs = statements.map((statement) => {
      if (!(statement instanceof SimulatedStatement)) throw new Error("batch of a statement from another database");
      return statement.spec;
    });
    return (await this.run(specs, (db) =>
      db.batch(specs.map(({ sql, params }) => db.prepare(sql).bind(...params))),
    )) as D1Result[];
  }

  getBookmark(): string | null {
    return this.started ? formatBookmark(this.floor) : null;
  }

  async run(specs: Statement[], run: (db: D1Database) => Promise<unknown>): Promise<unknown> {
    if (!this.started && this.constraint === "first-primary") this.floor = this.sim.position;
    this.started = true;
    const { result, position } = await this.sim.execute(this.location, this.floor, specs, run);
    this.floor = Math.max(this.floor, position);
    return result;
  }
}

class SimulatedStatement {
  constructor(
    private readonly session: SimulatedSession,
    readonly spec: Statement,
  ) {}

  bind(...params: unknown[]): SimulatedStatement {
    return new SimulatedStatement(this.session, { sql: this.spec.sql, params });
  }

  first(...args: unknown[]) {
    return this.execute("first", args);
  }
  all(...args: unknown[]) {
    return this.execute("all", args);
  }
  run(...args: unknown[]) {
    return this.execute("run", args);
  }
  raw(...args: unknown[]) {
    return this.execute("raw", args);
  }

  private execute(method: Method, args: unknown[]) {
    const { sql, params } = this.spec;
    return this.session.run([this.spec], (db) => {
      const statement = db.prepare(sql).bind(...params) as unknown as Record<Method, (...a: unknown[]) => unknown>;
      return Promise.resolve(statement[method](...args));
    });
  }
}
