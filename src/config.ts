import * as z from "zod/mini";

const positiveInt = (fallback: number, max: number) =>
  z._default(z.coerce.number().check(z.int(), z.positive(), z.maximum(max)), fallback);

const originList = z.pipe(
  z._default(z.string(), ""),
  z.transform((raw: string) =>
    raw
      .split(",")
      .map((origin) => origin.trim())
      .filter((origin) => origin.length > 0),
  ),
);

/** A var is a string ("true"/"false"); a TOML boolean in `[vars]` arrives as a boolean. */
const flag = (fallback: boolean) =>
  z._default(
    z.union([
      z.boolean(),
      z.pipe(
        z.enum(["true", "false"]),
        z.transform((raw: "true" | "false") => raw === "true"),
      ),
    ]),
    fallback,
  );

/** Built on the first `loadSettings`, once per isolate, not while the Worker module loads. */
const buildSettingsSchema = () =>
  z.object({
    JWT_SECRET: z.string().check(z.minLength(32, "must be at least 32 characters")),
    JWT_ISSUER: z._default(z.string().check(z.minLength(1)), "edge-posts-api"),
    JWT_AUDIENCE: z._default(z.string().check(z.minLength(1)), "edge-posts-api"),
    ACCESS_TOKEN_TTL_SECONDS: positiveInt(900, 86_400),
    REFRESH_TOKEN_TTL_DAYS: positiveInt(30, 365),
    /** `/api` tokens: RealWorld clients keep one for days, revocable at once (src/user-record/). */
    CONDUIT_TOKEN_TTL_DAYS: positiveInt(30, 365),
    CORS_ORIGINS: z.pipe(originList, z.array(z.url().check(z.refine((origin) => origin !== "*", "must list origins")))),
    /** The frontend that serves /reset-password and /verify-email; mailed links point there. */
    APP_URL: z.pipe(
      z.url({ protocol: /^https?$/ }).check(z.refine((url) => !/[?#]/.test(url), "must not have a query or fragment")),
      z.transform((url: string) => url.replace(/\/+$/, "")),
    ),
    /** Sender of account mail: an address on a domain onboarded in Cloudflare Email Service. */
    EMAIL_FROM: z.email(),
    /** When true, creating or publishing a post needs a verified email (src/domain/account-recovery.ts). */
    REQUIRE_VERIFIED_EMAIL: flag(false),
  });
let settingsSchema: ReturnType<typeof buildSettingsSchema> | undefined;

type ParsedSettings = z.infer<ReturnType<typeof buildSettingsSchema>>;

/** Settings parsed once per isolate, plus the derived values that are costly to build. */
export type Settings = Omit<ParsedSettings, "JWT_SECRET"> & {
  /** Imported once; the raw secret is not kept on the settings object so it cannot be logged. */
  jwtKey: CryptoKey;
};

export type SettingsResult = { ok: true; settings: Settings } | { ok: false; invalid: string[] };

const cache = new WeakMap<object, Promise<SettingsResult>>();

/**
 * Parses and validates the Worker's vars and secrets. The result is cached per `env` object, so
 * the cost (including the HMAC key import) is paid once per isolate. Invalid settings are
 * reported by name only, never by value.
 */
export function loadSettings(env: Cloudflare.Env): Promise<SettingsResult> {
  let result = cache.get(env);
  if (!result) {
    result = parseSettings(env);
    cache.set(env, result);
  }
  return result;
}

async function parseSettings(env: Cloudflare.Env): Promise<SettingsResult> {
  settingsSchema ??= buildSettingsSchema();
  const parsed = settingsSchema.safeParse(env);
  if (!parsed.success) {
    const invalid = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? "?")))];
    return { ok: false, invalid };
  }
  const { JWT_SECRET, ...rest } = parsed.data;
  const jwtKey = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(JWT_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
  return { ok: true, settings: { ...rest, jwtKey } };
}
