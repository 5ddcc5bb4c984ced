// wrangler.toml read with wrangler's own parser (what deploy reads), checked against the code's
// copies of its rules.
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { experimental_readRawConfig } from "wrangler";
import { RETRY_AFTER_SECONDS } from "../../src/middleware/rate-limit";

type RateLimit = { name?: string; simple?: { limit?: number; period?: number } };
type Vars = { CORS_ORIGINS?: string };
type RawConfig = {
  ratelimits?: RateLimit[];
  vars?: Vars;
  env?: Record<string, { ratelimits?: RateLimit[]; vars?: Vars }>;
};

const { rawConfig } = experimental_readRawConfig({ config: resolve(import.meta.dirname, "../../wrangler.toml") });
const config = rawConfig as RawConfig;

/** Every `ratelimits` entry of the top level and of each named environment. */
const limiters = [
  ...(config.ratelimits ?? []).map((limiter) => ({ env: "(top level)", ...limiter })),
  ...Object.entries(config.env ?? {}).flatMap(([env, settings]) =>
    (settings.ratelimits ?? []).map((limiter) => ({ env, ...limiter })),
  ),
];

describe("wrangler.toml", () => {
  it("declares rate limiters at the top level and in every environment", () => {
    const environments = new Set(limiters.map(({ env }) => env));
    expect([...environments].sort()).toEqual(["(top level)", ...Object.keys(config.env ?? {})].sort());
    expect(limiters.length).toBeGreaterThanOrEqual(3 * 5);
  });

  it("gives every limiter the period Retry-After announces (RETRY_AFTER_SECONDS)", () => {
    const differing = limiters
      .filter((limiter) => limiter.simple?.period !== RETRY_AFTER_SECONDS)
      .map(({ env, name, simple }) => `${env} ${name}: period ${simple?.period}`);
    expect(differing, `Retry-After is ${RETRY_AFTER_SECONDS} s`).toEqual([]);
  });
});

describe("CORS_ORIGINS", () => {
  it("allows local frontends' dev and preview servers on localhost and 127.0.0.1 (npm run dev)", () => {
    const origins = (config.vars?.CORS_ORIGINS ?? "").split(",");
    const expected = ["localhost", "127.0.0.1"].flatMap((host) =>
      [3000, 4173, 4200, 5173, 8080].map((port) => `http://${host}:${port}`),
    );
    expect(origins.sort()).toEqual(expected.sort());
  });

  it("keeps explicit https lists, without local origins, in every named environment", () => {
    for (const [env, settings] of Object.entries(config.env ?? {})) {
      const origins = (settings.vars?.CORS_ORIGINS ?? "").split(",");
      expect(origins.length, env).toBeGreaterThan(0);
      for (const origin of origins) expect(origin, env).toMatch(/^https:\/\/(?!localhost|127\.)[a-z0-9.-]+$/);
    }
  });
});
