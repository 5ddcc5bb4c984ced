import { simulatedSleep } from "./clock";

type KvWrite = typeof import("../../src/lib/kv-write");

/**
 * src/lib/kv-write.ts with its pauses simulated. The app waits real time between KV write retries
 * (300 ms, then 800 ms; the read cache's late invalidations 2 s, then 5 s), and the middleware
 * builds its PublicCache without the `sleep` option that would let a caller replace those waits.
 * The simulation has its own clock, so each sim test file swaps the module for this one:
 * `vi.mock("../../src/lib/kv-write", …withSimulatedPauses(original))`.
 */
export async function withSimulatedPauses(importOriginal: () => Promise<KvWrite>): Promise<KvWrite> {
  const actual = await importOriginal();
  return {
    ...actual,
    sleep: simulatedSleep,
    writeWithRetries: (write, pausesMs = actual.KV_WRITE_PAUSES_MS, pause = simulatedSleep) =>
      actual.writeWithRetries(write, pausesMs, pause),
  };
}
