import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { app } from "../../src/app";
import { BASE, createUser, uniqueEmail } from "../helpers";
import { recordingEmailBinding } from "../mail-recorder";

/**
 * How long `POST /v1/auth/password-reset` takes to answer for an existing account and for an
 * unknown address, measured in workerd over alternating requests. Nothing here asserts a time
 * (it depends on the machine); the figures are printed for the README. A benchmark, not part of
 * `npm test`: `npm run bench:reset-timing` runs it (vitest.bench.config.ts, at the production
 * password-hashing cost).
 */
const ROUNDS = 200;
const WARMUP_ROUNDS = 20;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    n: sorted.length,
    median_ms: round(percentile(sorted, 50)),
    p90_ms: round(percentile(sorted, 90)),
    mean_ms: round(sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length),
    // workerd's clock only moves at I/O and in whole milliseconds: the spread says how coarse.
    histogram_ms: Object.fromEntries(
      [...new Set(sorted.map((ms) => Math.round(ms)))].map((ms) => [
        ms,
        sorted.filter((x) => Math.round(x) === ms).length,
      ]),
    ),
  };
}

it(`answers known and unknown emails alike (${ROUNDS} alternating requests each; figures printed, not asserted)`, async () => {
  const user = await createUser();
  const mail = recordingEmailBinding({ forward: false });
  const runtimeEnv = { ...env, EMAIL: mail.binding };
  const times = { known: [] as number[], unknown: [] as number[] };
  const bodies = new Set<string>();

  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    // Alternate which goes first, so neither always follows the other's background work.
    const order = round % 2 === 0 ? (["known", "unknown"] as const) : (["unknown", "known"] as const);
    for (const kind of order) {
      const email = kind === "known" ? user.email : uniqueEmail("nobody");
      const ctx = createExecutionContext();
      const started = performance.now();
      const response = await app.fetch(
        new Request(`${BASE}/v1/auth/password-reset`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.250" },
          body: JSON.stringify({ email }),
        }),
        runtimeEnv,
        ctx,
      );
      const body = await response.text();
      const elapsed = performance.now() - started;
      // The mail and the token row are written after the answer: wait for them, untimed.
      await waitOnExecutionContext(ctx);
      expect(response.status).toBe(202);
      bodies.add(body);
      if (round >= WARMUP_ROUNDS) times[kind].push(elapsed);
    }
  }

  expect([...bodies]).toEqual(['{"status":"accepted"}']);
  expect(mail.sent).toHaveLength(WARMUP_ROUNDS + ROUNDS);
  expect(mail.sent.every((sent) => sent.to === user.email)).toBe(true);
  const known = summary(times.known);
  const unknown = summary(times.unknown);
  console.log(
    JSON.stringify({
      msg: "password-reset answer time, known vs unknown email (workerd, this machine)",
      known,
      unknown,
      median_difference_ms: Math.round((known.median_ms - unknown.median_ms) * 1000) / 1000,
      p90_difference_ms: Math.round((known.p90_ms - unknown.p90_ms) * 1000) / 1000,
    }),
  );
});
