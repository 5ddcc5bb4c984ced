/**
 * Facts that never change once true, remembered per isolate, so that a cache lookup can read every
 * generation an entry depends on in the same KV round trip as the entry instead of a second one
 * after it. Bounded (oldest first out); forgetting only costs that round trip again.
 */
export class Remembered<V> {
  private readonly values = new Map<string, V>();

  constructor(private readonly max = 10_000) {}

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  set(key: string, value: V): void {
    this.values.delete(key);
    const oldest = this.values.keys().next();
    if (this.values.size >= this.max && !oldest.done) this.values.delete(oldest.value);
    this.values.set(key, value);
  }

  /**
   * What this isolate remembers, and putting it back: the edge simulation runs several "isolates"
   * per location in one real one, each with its own memory (test/sim/edge.ts).
   */
  entries(): [string, V][] {
    return [...this.values];
  }

  replaceAll(entries: readonly [string, V][]): void {
    this.values.clear();
    for (const [key, value] of entries) this.values.set(key, value);
  }
}

/** The generations a cached `/v1` post depends on, by its cache key: its author never changes. */
export const postDependencies = new Remembered<readonly string[]>();

/** The generations a cached RealWorld article depends on, by its cache key: its post and author never change. */
export const articleDependencies = new Remembered<readonly string[]>();
