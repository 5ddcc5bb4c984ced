/**
 * KV takes one write per second per key and a write can fail outright. Writes that must not be
 * lost (cache generations, revocation markers) go through here: each round tries the candidate
 * keys in turn (any one of them will do), and a round in which all failed is retried after a
 * pause. The pauses add up to more than KV's one-second window, so a write refused only for
 * being too soon after another one gets through.
 */
export const KV_WRITE_PAUSES_MS: readonly number[] = [300, 800];

export type Sleep = (ms: number) => Promise<void>;

export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export type KvWriteOutcome = { ok: true; key: string } | { ok: false; error: unknown };

export async function writeToAnyKey(
  candidates: readonly string[],
  write: (key: string) => Promise<void>,
  pausesMs: readonly number[] = KV_WRITE_PAUSES_MS,
  pause: Sleep = sleep,
): Promise<KvWriteOutcome> {
  let lastError: unknown = new Error("no key to write");
  for (let round = 0; round <= pausesMs.length; round++) {
    if (round > 0) await pause(pausesMs[round - 1] ?? 0);
    // A random first candidate spreads concurrent writers over the shards.
    const start = Math.floor(Math.random() * candidates.length);
    for (let i = 0; i < candidates.length; i++) {
      const key = candidates[(start + i) % candidates.length] as string;
      try {
        await write(key);
        return { ok: true, key };
      } catch (error) {
        lastError = error;
      }
    }
  }
  return { ok: false, error: lastError };
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
