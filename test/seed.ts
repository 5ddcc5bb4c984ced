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
