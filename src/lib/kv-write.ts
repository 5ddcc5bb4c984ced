/**
 * KV takes one write per second per key and a write can fail outright. Writes that must not be
 * lost are retried after these pauses, which add up to more than KV's one-second window, so a
 * write refused only for being too soon after another one gets through. (The read cache's
 * generations add shards and freshness checks to the same rounds: src/cache/public-cache.ts.)
 */
export const KV_WRITE_PAUSES_MS: readonly number[] = [300, 800];

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export type KvWriteOutcome = { ok: true } | { ok: false; error: unknown };

/** Runs `write`, and again after each pause while it fails. */
export async function writeWithRetries(
  write: () => Promise<void>,
  pausesMs: readonly number[] = KV_WRITE_PAUSES_MS,
  pause: Sleep = sleep,
): Promise<KvWriteOutcome> {
  let lastError: unknown;
  for (let round = 0; round <= pausesMs.length; round++) {
    if (round > 0) await pause(pausesMs[round - 1] ?? 0);
    try {
      await write();
      return { ok: true };
    } catch (error) {
      lastError = error;
    }
  }
  return { ok: false, error: lastError };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
