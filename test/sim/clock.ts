/**
 * The simulation's clock: real time plus the jumps a test makes. Real time keeps counting so the
 * app's own pauses (a retried KV write waits 300 ms, then 800 ms) move it like production time;
 * `advance` jumps over KV propagation windows without waiting for them.
 */
export class SimClock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
