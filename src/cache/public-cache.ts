import { type D1Bookmark, isNewerBookmark, newestBookmark } from "../db/bookmark";
import { meetsFloor, type ReadFloor } from "../db/session";
import { errorMessage, KV_WRITE_PAUSES_MS, type Sleep, sleep } from "../lib/kv-write";
import { logWarning } from "../lib/log";
import { timed } from "../lib/timing";
import { floorOf, type GenerationValue, newGenerationValue, UNMOVED } from "./generations";
import { GENERATION_TTL_SECONDS, KV_TIMEOUT_MS } from "./keys";

export type CacheStatus = "HIT" | "MISS" | "BYPASS";

/** A cached public response: the exact body bytes to send, and its validator. */
export type CachedResponse = { etag: string; body: string };

/** The generations an entry was filled under, by key. */
export type Stamp = Record<string, GenerationValue>;
type StoredEntry = CachedResponse & { stamp: Stamp; bookmark?: D1Bookmark };

export type Lookup =
  /** `dependsOn`: every generation the entry was stamped with. */
  | { kind: "hit"; entry: CachedResponse; dependsOn: string[] }
  /** `stamp` is what a fill must carry: the generations as they were before the D1 read. */
  | { kind: "miss"; stamp: Stamp }
  /** KV failed; serve from D1 and do not fill, since the stamp is unknown. */
  | { kind: "unavailable" };

/** Keys that retire together: one key, or shards of which any one will do. */
export type GenerationTarget = readonly string[];

/** Whether the D1 write a bump follows is known to have committed. */
export type WriteOutcome = "committed" | "unknown";

/** The request's D1 session, as far as the cache needs it. */
export type Freshness = {
  raiseFloor(floor: ReadFloor): void;
  getBookmark(): D1Bookmark | undefined;
  newestCommitted(): Promise<D1Bookmark | undefined>;
};

export type PublicCacheOptions = {
  kv: KVNamespace;
  waitUntil: (promise: Promise<unknown>) => void;
  /** Notes a degraded-but-served condition on the request's log line. */
  warn: (message: string) => void;
  freshness: Freshness;
  /** The bookmark the client sent: an entry older than it is not served to this client. */
  clientBookmark: D1Bookmark | undefined;
  /** Time spent waiting on KV for the response (fills after it are not counted). */
  onWait?: (ms: number) => void;
  sleep?: Sleep;
};

/** After the response, bumps that failed in the request are tried again this much later. */
const LATE_BUMP_PAUSES_MS: readonly number[] = [2000, 5000];

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`KV ${what} timed out after ${KV_TIMEOUT_MS} ms`)), KV_TIMEOUT_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Read-through cache of public representations in KV. Fail-open: any KV error or timeout on a
 * read is reported through `warn` and the caller serves from D1 instead. Invalidations are never
 * dropped: see `bump`.
 */
export class PublicCache {
  private readonly onWait: (ms: number) => void;
  private readonly sleep: Sleep;

  /** An entry older than this is not served to this request (the client's bookmark, or its user's newest write). */
  private clientFloor: D1Bookmark | undefined;

  constructor(private readonly options: PublicCacheOptions) {
    this.onWait = options.onWait ?? (() => undefined);
    this.sleep = options.sleep ?? sleep;
    this.clientFloor = options.clientBookmark;
  }

  /**
   * The signed-in user's newest write (from the user record): like a bookmark the client sent, an
   * entry older than it is not served to them, so a writer never reads an entry from before its
   * own write, whatever KV shows at this location.
   */
  serveNoOlderThan(bookmark: D1Bookmark): void {
    this.clientFloor = newestBookmark(this.clientFloor, bookmark);
  }

  /**
   * Reads an entry and the generations it depends on. `dependsOn` are the generations known from
   * the request; an entry may add its own (the post's author) at fill time. On a miss the
   * session's floor is raised so the D1 read that refills the entry sees every write those
   * generations record.
   */
  lookup(key: string, dependsOn: readonly string[]): Promise<Lookup> {
    return timed(() => this.lookupUntimed(key, dependsOn), this.onWait);
  }

  /** For reads that bypass the cache: D1 reads at least as fresh as the generations record. */
  async raiseFloorFor(dependsOn: readonly string[]): Promise<void> {
    await timed(async () => {
      try {
        const values = await this.readGenerations(dependsOn);
        this.raiseFloor(Object.values(values));
      } catch (error) {
        this.failOpen(error);
      }
    }, this.onWait);
  }

  /**
   * KV could not say which writes the generations record, so the D1 read behind this request
   * reads the primary: fail open, but never older than what any location already committed.
   */
  private failOpen(error: unknown): void {
    this.options.warn(`cache read failed: ${errorMessage(error)}`);
    this.options.freshness.raiseFloor({ kind: "primary" });
  }

  private async lookupUntimed(key: string, dependsOn: readonly string[]): Promise<Lookup> {
    try {
      const values = await withTimeout(this.options.kv.get([key, ...dependsOn], "text"), "read");
      const stamp: Stamp = Object.fromEntries(dependsOn.map((dep) => [dep, values.get(dep) ?? UNMOVED]));
      const raw = values.get(key) ?? null;
      if (raw !== null) {
        const entry = JSON.parse(raw) as StoredEntry;
        if (await this.stillCurrent(entry, stamp)) {
          return { kind: "hit", entry: { etag: entry.etag, body: entry.body }, dependsOn: Object.keys(entry.stamp) };
        }
      }
      this.raiseFloor(Object.values(stamp));
      return { kind: "miss", stamp };
    } catch (error) {
      this.failOpen(error);
      return { kind: "unavailable" };
    }
  }

  /** Every generation the entry was stamped with is unchanged, and it is as fresh as the client. */
  private async stillCurrent(entry: StoredEntry, known: Stamp): Promise<boolean> {
    const floor = this.clientFloor;
    if (floor !== undefined && isNewerBookmark(floor, entry.bookmark)) return false;
    const own = Object.keys(entry.stamp).filter((dep) => !(dep in known));
    if (Object.keys(known).some((dep) => entry.stamp[dep] !== known[dep])) return false;
    if (own.length === 0) return true;
    const current = await this.readGenerations(own);
    return own.every((dep) => entry.stamp[dep] === current[dep]);
  }

  private async readGenerations(keys: readonly string[]): Promise<Stamp> {
    if (keys.length === 0) return {};
    const values = await withTimeout(this.options.kv.get([...keys], "text"), "read");
    return Object.fromEntries(keys.map((key) => [key, values.get(key) ?? UNMOVED]));
  }

  private raiseFloor(values: Iterable<GenerationValue>): void {
    const floor = floorOf(values);
    if (floor) this.options.freshness.raiseFloor(floor);
  }

  /**
   * Runs the D1 read behind a miss when the entry also depends on generations learnt from the
   * data (the author of a post). Those are read after it; if one records a write newer than the
   * read, the floor is raised and the read runs again, so the response (and the entry filled
   * from it) reflects that write. `stamp` is undefined when KV could not say (then do not fill).
   */
  async loadFresh<T>(
    lookup: Lookup,
    load: () => Promise<T>,
    alsoDependsOn: (value: T) => readonly string[],
  ): Promise<{ value: T; stamp: Stamp | undefined }> {
    const value = await load();
    // KV already failed this request (the floor is the primary): serve from D1 without asking it again.
    if (lookup.kind === "unavailable") return { value, stamp: undefined };
    const known = lookup.kind === "miss" ? lookup.stamp : {};
    const keys = alsoDependsOn(value);
    let stamp: Stamp;
    try {
      const unread = keys.filter((key) => !(key in known));
      const read = await timed(() => this.readGenerations(unread), this.onWait);
      stamp = Object.fromEntries(keys.map((key) => [key, known[key] ?? read[key] ?? UNMOVED]));
    } catch (error) {
      // The read may have come from a lagging replica: read again on the primary.
      this.failOpen(error);
      return { value: await load(), stamp: undefined };
    }
    const floor = floorOf(Object.values(stamp));
    if (!floor || meetsFloor(this.options.freshness.getBookmark(), floor)) return { value, stamp };
    this.options.freshness.raiseFloor(floor);
    return { value: await load(), stamp };
  }

  /**
   * Stores an entry after the response is sent. Call it right after the D1 read the response
   * came from: the entry records that read's bookmark. `learnt` is the stamp `loadFresh` gave.
   */
  fill(
    key: string,
    miss: Extract<Lookup, { kind: "miss" }>,
    response: CachedResponse,
    ttlSeconds: number,
    learnt: Stamp = {},
  ): void {
    const bookmark = this.options.freshness.getBookmark();
    const entry: StoredEntry = { ...response, stamp: { ...miss.stamp, ...learnt }, ...(bookmark ? { bookmark } : {}) };
    this.options.waitUntil(
      withTimeout(this.options.kv.put(key, JSON.stringify(entry), { expirationTtl: ttlSeconds }), "write").catch(
        (error: unknown) => {
          this.options.warn(`cache fill failed: ${errorMessage(error)}`);
        },
      ),
    );
  }

  /** Undefined when D1 cannot say: the generation then sends fills to the primary. */
  private newestCommitted(): Promise<D1Bookmark | undefined> {
    return this.options.freshness.newestCommitted().catch(() => undefined);
  }

  private async alreadyAtLeast(key: string, bookmark: D1Bookmark): Promise<boolean> {
    try {
      const floor = floorOf([(await withTimeout(this.options.kv.get(key, "text"), "read")) ?? UNMOVED]);
      return floor?.kind === "bookmark" && !isNewerBookmark(bookmark, floor.bookmark);
    } catch {
      return false;
    }
  }

  /**
   * Moves generations on after a D1 write, which retires every entry stamped with the old ones.
   * Awaited (not in `waitUntil`) so a read that follows the write at this location cannot see
   * an old entry. A generation KV refuses (one write per second per key, or a failure) is tried
   * again on another shard or after a pause; one still refused is handed to `waitUntil` to keep
   * trying after the response.
   */
  bump(targets: readonly GenerationTarget[], outcome: WriteOutcome): Promise<void> {
    return timed(() => this.bumpUntimed(targets, outcome), this.onWait);
  }

  private async bumpUntimed(targets: readonly GenerationTarget[], outcome: WriteOutcome): Promise<void> {
    // What another bump must be at least as fresh as to stand in for this one.
    const mine = outcome === "committed" ? this.options.freshness.getBookmark() : undefined;
    // One read of the primary's bookmark serves every target's first round.
    const floor = this.newestCommitted();
    const outcomes = await Promise.all(
      targets.map(async (target) => ({ target, error: await this.moveOn(target, mine, KV_WRITE_PAUSES_MS, floor) })),
    );
    for (const { target, error } of outcomes) {
      if (error === undefined) continue;
      this.options.warn(`cache invalidation of ${target.join("|")} delayed: ${errorMessage(error)}`);
      this.options.waitUntil(
        this.moveOn(target, mine, LATE_BUMP_PAUSES_MS).then((late) => {
          if (late !== undefined) logWarning("cache invalidation failed", { keys: target, error: errorMessage(late) });
        }),
      );
    }
  }

  /**
   * Writes a new value to one key of `target`. Each round first reads the primary's newest
   * bookmark, so the value covers every write committed before it is written, not only ours:
   * whichever value KV keeps, fills under it read all those writes. A key KV refuses (one write
   * per second per key) was written by someone else less than a second ago; if that value is
   * at least as fresh as our commit it already does our job. Returns the last error on failure.
   */
  private async moveOn(
    target: GenerationTarget,
    mine: D1Bookmark | undefined,
    pausesMs: readonly number[],
    firstFloor?: Promise<D1Bookmark | undefined>,
  ): Promise<unknown | undefined> {
    const { kv } = this.options;
    let lastError: unknown;
    for (let round = 0; round <= pausesMs.length; round++) {
      if (round > 0) await this.sleep(pausesMs[round - 1] ?? 0);
      const floor = await (round === 0 && firstFloor ? firstFloor : this.newestCommitted());
      const value = newGenerationValue(floor);
      const cover = mine ?? floor;
      const start = Math.floor(Math.random() * target.length);
      for (let i = 0; i < target.length; i++) {
        const key = target[(start + i) % target.length] as string;
        try {
          await withTimeout(kv.put(key, value, { expirationTtl: GENERATION_TTL_SECONDS }), "write");
          return undefined;
        } catch (error) {
          lastError = error;
          if (cover !== undefined && (await this.alreadyAtLeast(key, cover))) return undefined;
        }
      }
    }
    return lastError;
  }
}
