import type { PublicCache } from "./cache/public-cache";
import type { Settings } from "./config";
import type { Db } from "./db/client";
import type { Role } from "./db/schema";
import type { Timings } from "./lib/timing";

/** Who is calling. Anonymous callers are a value, not a missing one, so every check handles them. */
export type Actor = { kind: "anonymous" } | { kind: "user"; id: string; role: Role };
export type UserActor = Extract<Actor, { kind: "user" }>;

/** What the request log line adds beyond the basics, filled in along the way. */
export type LogFields = {
  /** The matched route pattern, set by the route guard. */
  route?: string | undefined;
  userId?: string;
  cache?: "HIT" | "MISS" | "BYPASS";
  error?: { type: string; stack?: string | undefined; message?: string };
  warnings?: string[];
};

export type AppEnv = {
  Bindings: Cloudflare.Env;
  Variables: {
    requestId: string;
    settings: Settings;
    db: Db;
    cache: PublicCache;
    actor: Actor;
    log: LogFields;
    timings: Timings;
  };
};
