import type { PublicCache } from "./cache/public-cache";
import type { Settings } from "./config";
import type { Db } from "./db/client";
import type { RequestSession } from "./db/session";
import type { DomainContext } from "./domain/context";
import type { Actor } from "./domain/vocabulary";
import type { Timings } from "./lib/timing";

/** What the request log line adds beyond the basics, filled in along the way. */
export type LogFields = {
  /** The matched route pattern, set by the route guard. */
  route?: string | undefined;
  userId?: string;
  cache?: "HIT" | "MISS" | "BYPASS";
  error?: { type: string; stack?: string | undefined; message?: string };
  warnings?: string[];
};

/** The verified access token of the request: its issue time, its sign-in's `auth_time` and session version. */
export type Credentials = { token: string; issuedAtMs: number; authTimeMs: number; sessionVersion: number };

export type AppEnv = {
  Bindings: Cloudflare.Env;
  Variables: {
    requestId: string;
    settings: Settings;
    db: Db;
    cache: PublicCache;
    /** The request's D1 session: its read floor can be raised (src/db/session.ts). */
    session: RequestSession;
    /** What the domain's operations need (src/domain/context.ts). */
    domain: DomainContext;
    actor: Actor;
    /** The verified access token a signed-in request carried, set with `actor`. */
    credentials?: Credentials;
    log: LogFields;
    timings: Timings;
  };
};
