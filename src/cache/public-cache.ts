import { newId } from "../lib/ids";
import { timed } from "../lib/timing";
import { KV_TIMEOUT_MS } from "./keys";

export type CacheStatus = "HIT" | "MISS" | "BYPASS";

/** A cached public response: the exact body bytes to send, and its validator. */
export type CachedResponse = { etag: string; body: string };
type StoredEntry = CachedResponse & { stamp: string };

export type Lookup =
  /** `stamp` is what a fill must carry: the generations as they were before the D1 read. */
  | { kind: "hit"; entry: CachedResponse }
  | { kind: "miss"; stamp: string }
  /** KV failed; serve from D1 and do not fill, since the stamp is unknown. */
  | { kind: "unavailable" };

/** Generations must outlive every entry stamped with them (see README, "Read cache"). */
const GENERATION_TTL_SECONDS = 2 * 60 * 60;

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
 * Read-through cache of public representations in KV. Fail-open: any KV error or timeout is
 * reported through `warn` and the caller serves from D1 instead.
 */
export class PublicCache {
  constructor(
    private readonly kv: KVNamespace,
    private readonly waitUntil: (promise: Promise<unknown>) => void,
    private readonly warn: (message: string) => void,
    /** Time spent waiting on KV for the response (fills after it are not counted). */
    private readonly onWait: (ms: number) => void = () => undefined,
  ) {}

  /** Reads an entry and the generations it depends on (one KV round trip). */
  lookup(key: string, generationKeys: readonly string[]): Promise<Lookup> {
    return timed(() => this.lookupUntimed(key, generationKeys), this.onWait);
  }

  private async lookupUntimed(key: string, generationKeys: readonly string[]): Promise<Lookup> {
    try {
      // One bulk read for the entry and its generations: one KV round trip.
      const values = await withTimeout(this.kv.get([key, ...generationKeys], "text"), "read");
      const stamp = generationKeys.map((generationKey) => values.get(generationKey) ?? "0").join("|");
      const raw = values.get(key) ?? null;
      if (raw !== null) {
        const entry = JSON.parse(raw) as StoredEntry;
        if (entry.stamp === stamp) return { kind: "hit", entry: { etag: entry.etag, body: entry.body } };
      }
      return { kind: "miss", stamp };
    } catch (error) {
      this.warn(`cache read failed: ${error instanceof Error ? error.message : String(error)}`);
      return { kind: "unavailable" };
    }
  }

  /** Stores an entry after the response is sent. */
  fill(key: string, stamp: string, response: CachedResponse, ttlSeconds: number): void {
    const entry: StoredEntry = { stamp, ...response };
    this.waitUntil(
      withTimeout(this.kv.put(key, JSON.stringify(entry), { expirationTtl: ttlSeconds }), "write").catch(
        (error: unknown) => {
          this.warn(`cache fill failed: ${error instanceof Error ? error.message : String(error)}`);
        },
      ),
    );
  }

  /**
   * Moves generations on, which retires every entry stamped with the old ones. Awaited (not in
   * `waitUntil`) so a read that follows the write at this location cannot see the old entry.
   */
  bump(generationKeys: readonly string[]): Promise<void> {
    return timed(() => this.bumpUntimed(generationKeys), this.onWait);
  }

  private async bumpUntimed(generationKeys: readonly string[]): Promise<void> {
    const value = newId();
    const results = await Promise.allSettled(
      generationKeys.map((key) =>
        withTimeout(this.kv.put(key, value, { expirationTtl: GENERATION_TTL_SECONDS }), "write"),
      ),
    );
    for (const result of results) {
      if (result.status === "rejected") {
        const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
        this.warn(`cache invalidation failed: ${reason}`);
      }
    }
  }
}
