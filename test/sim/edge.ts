import { applyD1Migrations, createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/app";
import { articleDependencies, postDependencies } from "../../src/cache/remembered";
import { type UserRecordMethod, userRecordsWith } from "../user-records";
import { realNow, SimClock } from "./clock";
import { D1ReplicaLagSimulator } from "./d1-replication";
import { KvPropagationSimulator } from "./kv-propagation";

export const LOCATIONS = ["A", "B", "C"] as const;

/** The app's module-level memory that differs between isolates (src/cache/remembered.ts). */
const ISOLATE_MEMOS = [postDependencies, articleDependencies];
export type Location = (typeof LOCATIONS)[number];

/** The bound the README states for other locations: KV's propagation window. */
export const PROPAGATION_BOUND_MS = 60_000;

const BASE = "https://edge.test";

/**
 * The real app (`app.fetch`) run at several simulated locations. Each location has its own view
 * of KV (its own local namespace, reached by other locations' writes only after a delay) and its
 * own D1 read replica (behind the primary until the test lets it catch up). Everything a request
 * touches is the real local D1 and KV; only lag, propagation, KV's write limit and injected
 * faults are simulated, by the two wrappers named for that.
 */
export class EdgeSimulation {
  readonly clock = new SimClock();
  readonly kv: KvPropagationSimulator;
  readonly d1: D1ReplicaLagSimulator;
  /**
   * The per-user Durable Objects: one real namespace for every location, as in production (one
   * instance per user worldwide). `refused` injects unreachable calls; `calls` counts them.
   */
  readonly records: { refused: Set<UserRecordMethod>; calls: Record<UserRecordMethod, number> };
  private readonly envs: Record<string, Cloudflare.Env>;

  private constructor() {
    this.kv = new KvPropagationSimulator(
      this.clock,
      { A: env.SIM_KV_A, B: env.SIM_KV_B, C: env.SIM_KV_C },
      // Tests that do not say otherwise: at once where written (KV's usual), the bound elsewhere.
      (from, to) => (from === to ? 0 : PROPAGATION_BOUND_MS),
    );
    this.d1 = new D1ReplicaLagSimulator(env.DB, { A: env.SIM_REPLICA_A, B: env.SIM_REPLICA_B, C: env.SIM_REPLICA_C });
    const refused = new Set<UserRecordMethod>();
    const records = userRecordsWith((method) => refused.has(method));
    this.records = { refused, calls: records.calls };
    this.envs = Object.fromEntries(
      LOCATIONS.map((location) => [
        location,
        {
          ...env,
          DB: this.d1.databaseAt(location),
          KV: this.kv.viewAt(location),
          USER_RECORDS: records.namespace,
        } as Cloudflare.Env,
      ]),
    );
  }

  static async create(): Promise<EdgeSimulation> {
    // The primary too: the sim project's setup file does not import `cloudflare:test` (test/setup.ts).
    for (const database of [env.DB, env.SIM_REPLICA_A, env.SIM_REPLICA_B, env.SIM_REPLICA_C]) {
      await applyD1Migrations(database, env.TEST_MIGRATIONS);
    }
    const sim = new EdgeSimulation();
    await sim.reset();
    return sim;
  }

  /**
   * How many isolates each location runs. A request lands on any of them (`pickIsolate`), and
   * each keeps its own module-level memory (the remembered dependencies of cached entries), as
   * two requests at one location may reach different isolates or machines in production.
   */
  isolatesPerLocation = 1;
  pickIsolate: (location: Location) => number = () => 0;
  private readonly isolateMemory = new Map<string, [string, readonly string[]][][]>();

  /**
   * Whether a request's `waitUntil` work (cache fills, late generation bumps) must finish before
   * the next request starts. Production promises no such order: with `false`, the work runs on
   * while later requests are served, and `settle()` waits for whatever is left.
   */
  awaitBackgroundWork = true;
  private background: Promise<unknown>[] = [];

  /**
   * How far each location's clock is off (ms): the app's `Date.now` says so while a request of
   * that location runs, as machines' clocks are not promised to agree. (Requests that run at the
   * same time share the clock of whichever started last.)
   */
  clockSkewMs: Partial<Record<Location, number>> = {};
  private inFlight = 0;

  /** One request at a location; its `waitUntil` work (cache fills) finishes before it returns, unless `awaitBackgroundWork` is off. */
  async fetch(location: Location, path: string, init: RequestInit = {}): Promise<Response> {
    const skew = this.clockSkewMs[location] ?? 0;
    Date.now = () => realNow() + skew;
    this.inFlight += 1;
    try {
      return await this.fetchAt(location, path, init);
    } finally {
      this.inFlight -= 1;
      if (this.inFlight === 0) Date.now = realNow;
    }
  }

  private async fetchAt(location: Location, path: string, init: RequestInit): Promise<Response> {
    const isolate = `${location}:${this.pickIsolate(location) % this.isolatesPerLocation}`;
    const memory = this.isolateMemory.get(isolate) ?? ISOLATE_MEMOS.map(() => []);
    ISOLATE_MEMOS.forEach((memo, index) => {
      memo.replaceAll(memory[index] ?? []);
    });
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`${BASE}${path}`, init), this.envs[location], ctx);
    if (this.awaitBackgroundWork) await waitOnExecutionContext(ctx);
    else this.background.push(waitOnExecutionContext(ctx));
    this.isolateMemory.set(
      isolate,
      ISOLATE_MEMOS.map((memo) => memo.entries()),
    );
    return response;
  }

  /** Everything written has reached every location and every replica. */
  async settle(): Promise<void> {
    await this.finishBackgroundWork();
    this.clock.advance(PROPAGATION_BOUND_MS + 1);
    await this.kv.deliverAll(true);
    await this.d1.catchUpAll();
  }

  /** Waits for every request's `waitUntil` work left running. */
  async finishBackgroundWork(): Promise<void> {
    while (this.background.length > 0) await Promise.allSettled(this.background.splice(0));
  }

  /** Empty D1 everywhere, empty KV everywhere, no pending propagation, no faults. */
  async reset(): Promise<void> {
    this.kv.faults = {};
    this.kv.edgeCacheTtlMs = 0;
    this.kv.propagationDelay = (from, to) => (from === to ? 0 : PROPAGATION_BOUND_MS);
    this.d1.faults = {};
    this.records.refused.clear();
    await this.finishBackgroundWork();
    this.awaitBackgroundWork = true;
    this.isolatesPerLocation = 1;
    this.clockSkewMs = {};
    this.pickIsolate = () => 0;
    this.isolateMemory.clear();
    this.kv.forget();
    await this.d1.wipe();
    for (const namespace of [env.SIM_KV_A, env.SIM_KV_B, env.SIM_KV_C]) {
      for (let page = await namespace.list(); ; page = await namespace.list({ cursor: page.cursor })) {
        await Promise.all(page.keys.map(({ name }) => namespace.delete(name)));
        if (page.list_complete) break;
      }
    }
    this.clock.advance(2 * PROPAGATION_BOUND_MS);
  }
}
