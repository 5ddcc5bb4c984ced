import type { SimClock } from "./clock";

/** KV's documented limit: one write per second per key, across all locations. */
export const KV_WRITE_INTERVAL_MS = 1000;

type Write = { key: string; value: string | null; expirationTtl: number | undefined; seq: number };
type Pending = { to: string; write: Write; visibleAt: number };

export type KvFaults = {
  /** A put or delete at `location` of `key` throws (after the per-key limit check). */
  failWrite?: (location: string, key: string) => boolean;
  /** A get at `location` throws. */
  failRead?: (location: string) => boolean;
};

/**
 * Lag- and limit-injecting wrapper over one real local KV namespace per location. A write reaches
 * each location's namespace, the writer's own included, after a propagation delay the test
 * controls (0 at the writer's location unless the test says otherwise; last write wins, as in
 * KV). Cloudflare promises no more than that: a write is only "usually" visible at once where it
 * was made. With `edgeCacheTtlMs`, a location also keeps what a get read, a missing key included,
 * for that long (KV's `cacheTtl`, 60 s by default), so a later write stays unseen there until the
 * kept value expires. Writes to a key more often than once per second, from any location, throw
 * as production KV does (429).
 */
export class KvPropagationSimulator {
  private seq = 0;
  private pending: Pending[] = [];
  private readonly lastWriteAt = new Map<string, number>();
  /** Per location and key, the newest write applied there. */
  private readonly applied = new Map<string, number>();
  faults: KvFaults = {};
  /** Writes refused by the per-key limit, for reports. */
  refusedWrites = 0;
  /** How long a location keeps what a get read, misses included (KV's `cacheTtl`); 0: not at all. */
  edgeCacheTtlMs = 0;
  /** Per location and key: what a get read there, until when it is kept. */
  private readonly edgeCache = new Map<string, { value: string | null; until: number }>();

  constructor(
    private readonly clock: SimClock,
    private readonly namespaces: Record<string, KVNamespace>,
    /** Delay before a write made at `from` is visible at `to`. */
    public propagationDelay: (from: string, to: string) => number,
  ) {}

  /** The KV binding as the Worker at `location` sees it. */
  viewAt(location: string): KVNamespace {
    const namespace = this.namespace(location);
    const view = {
      get: async (keyOrKeys: string | string[], options?: unknown) => {
        await this.deliver(location);
        if (this.faults.failRead?.(location)) throw new Error("KV GET failed: 503 (simulated fault)");
        if (options !== undefined && options !== "text") throw new Error("KV get is simulated for text only");
        const keys = Array.isArray(keyOrKeys) ? keyOrKeys : [keyOrKeys];
        const values = await this.readThroughEdge(location, namespace, keys);
        return Array.isArray(keyOrKeys) ? values : (values.get(keyOrKeys) ?? null);
      },
      put: (key: string, value: string, options?: KVNamespacePutOptions) =>
        this.write(location, key, value, options?.expirationTtl),
      delete: (key: string) => this.write(location, key, null, undefined),
    };
    return new Proxy(view, {
      get(target, property) {
        if (property in target) return target[property as keyof typeof target];
        throw new Error(`KV ${String(property)} is not simulated`);
      },
    }) as unknown as KVNamespace;
  }

  /** Delivers every pending write whose delay has passed (or all of them), everywhere. */
  async deliverAll(everything = false): Promise<void> {
    for (const location of Object.keys(this.namespaces)) await this.deliver(location, everything);
  }

  /** Forgets pending writes, kept reads and limits (between independent runs; the namespaces are wiped apart). */
  forget(): void {
    this.pending = [];
    this.applied.clear();
    this.lastWriteAt.clear();
    this.edgeCache.clear();
  }

  /** The values of `keys` at `location`: kept ones while they last, the rest read (and kept). */
  private async readThroughEdge(location: string, namespace: KVNamespace, keys: string[]) {
    const now = this.clock.now();
    const values = new Map<string, string | null>();
    const unread: string[] = [];
    for (const key of keys) {
      const kept = this.edgeCache.get(`${location}\n${key}`);
      if (kept && kept.until > now) values.set(key, kept.value);
      else unread.push(key);
    }
    if (unread.length > 0) {
      const read = await namespace.get(unread, "text");
      for (const key of unread) {
        const value = read.get(key) ?? null;
        values.set(key, value);
        if (this.edgeCacheTtlMs > 0)
          this.edgeCache.set(`${location}\n${key}`, { value, until: now + this.edgeCacheTtlMs });
      }
    }
    return values;
  }

  private async write(location: string, key: string, value: string | null, expirationTtl: number | undefined) {
    const now = this.clock.now();
    const last = this.lastWriteAt.get(key);
    if (last !== undefined && now - last < KV_WRITE_INTERVAL_MS) {
      this.refusedWrites += 1;
      throw new Error(`KV PUT failed: 429 Too Many Requests (simulated: one write per second to ${key})`);
    }
    if (this.faults.failWrite?.(location, key)) throw new Error("KV PUT failed: 503 (simulated fault)");
    this.lastWriteAt.set(key, now);
    this.seq += 1;
    const write: Write = { key, value, expirationTtl, seq: this.seq };
    for (const to of Object.keys(this.namespaces)) {
      const delay = this.propagationDelay(location, to);
      if (delay <= 0) await this.apply(to, write);
      else this.pending.push({ to, write, visibleAt: now + delay });
    }
  }

  private async deliver(location: string, everything = false): Promise<void> {
    const now = this.clock.now();
    const due = this.pending.filter((item) => item.to === location && (everything || item.visibleAt <= now));
    if (due.length === 0) return;
    this.pending = this.pending.filter((item) => !due.includes(item));
    for (const { write } of due.sort((a, b) => a.write.seq - b.write.seq)) await this.apply(location, write);
  }

  private async apply(location: string, write: Write): Promise<void> {
    const appliedKey = `${location}\n${write.key}`;
    if ((this.applied.get(appliedKey) ?? 0) > write.seq) return;
    this.applied.set(appliedKey, write.seq);
    const namespace = this.namespace(location);
    if (write.value === null) await namespace.delete(write.key);
    else await namespace.put(write.key, write.value, write.expirationTtl ? { expirationTtl: write.expirationTtl } : {});
  }

  private namespace(location: string): KVNamespace {
    const namespace = this.namespaces[location];
    if (!namespace) throw new Error(`no KV namespace for location ${location}`);
    return namespace;
  }
}
