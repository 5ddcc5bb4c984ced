/**
 * The simulation's clock: real time plus the jumps a test makes. `advance` jumps over KV
 * propagation windows without waiting for them, and the app's own pauses (a retried KV write
 * waits 300 ms, then 800 ms; a late cache invalidation 2 s, then 5 s) move it instead of the
 * wall clock: test/sim/setup.ts hands the app `simulatedSleep`.
 */
/** The machine's clock, whatever a location's skew (edge.ts) makes `Date.now` say meanwhile. */
export const realNow: () => number = Date.now.bind(Date);

export class SimClock {
  private offsetMs = 0;

  constructor() {
    clocks.add(this);
  }

  now(): number {
    return realNow() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Every simulation clock of this test file (one per simulation). */
const clocks = new Set<SimClock>();

/**
 * The app's pause, simulated: no real wait, every simulation's time moves on by `ms` (so a write
 * retried after KV's one-second window is refused or let through as in production). It still
 * yields to other pending work, as a real timer would.
 */
export async function simulatedSleep(ms: number): Promise<void> {
  for (const clock of clocks) clock.advance(ms);
  await new Promise((resolve) => setTimeout(resolve, 0));
}
