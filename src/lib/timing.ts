/** Milliseconds spent waiting on each dependency during one request, for `Server-Timing`. */
export type Timings = { db: number; cache: number };

/** Runs `work` and adds its duration to `add`. */
export async function timed<T>(work: () => Promise<T>, add: (ms: number) => void): Promise<T> {
  const started = performance.now();
  try {
    return await work();
  } finally {
    add(performance.now() - started);
  }
}

/** `db;dur=1.2, cache;dur=0.3, total;dur=4.5` (RFC-style Server-Timing, milliseconds). */
export function serverTimingHeader(timings: Timings, totalMs: number): string {
  const format = (ms: number) => (Math.round(ms * 10) / 10).toString();
  return `db;dur=${format(timings.db)}, cache;dur=${format(timings.cache)}, total;dur=${format(totalMs)}`;
}
