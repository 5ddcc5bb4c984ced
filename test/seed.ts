const DEFAULT_SEED = 20_261_127;

/**
 * The seed of the property tests: `FUZZ_SEED` or `VITE_FUZZ_SEED` when set (workerd only sees
 * the runner's `VITE_*` variables), else a fixed default, so every run is reproducible.
 */
export function fuzzSeed(): number {
  const processEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const raw = processEnv?.FUZZ_SEED ?? processEnv?.VITE_FUZZ_SEED;
  const seed = raw === undefined || raw.trim() === "" ? Number.NaN : Number(raw);
  return Number.isSafeInteger(seed) ? seed | 0 : DEFAULT_SEED;
}

/**
 * A passing run takes well under a minute. The generous limits leave room for shrinking a
 * failure: fast-check stops first and reports its best counterexample (with the seed) before
 * vitest would time the test out.
 */
export const PROPERTY_TIMEOUT_MS = 180_000;
export const SHRINK_TIME_LIMIT_MS = 150_000;
