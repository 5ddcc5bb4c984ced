import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Credentials } from "../app-env";
import { verifyAccessToken } from "../auth/access-token";
import { type D1Bookmark, isNewerBookmark } from "../db/bookmark";
import type { UserActor } from "../domain/vocabulary";
import { AuthenticationError } from "../errors";

/** Longer than any token we issue; anything bigger is refused before any crypto runs. */
const MAX_TOKEN_LENGTH = 4096;

/** `Authorization` schemes: `/v1` speaks OAuth's `Bearer`; RealWorld clients send `Token`. */
const BEARER = /^Bearer +([^\s]+) *$/i;
const TOKEN_OR_BEARER = /^(?:Token|Bearer) +([^\s]+) *$/i;

/**
 * Reads `Authorization: Bearer <jwt>` when present and sets `c.var.actor`. A header that is
 * present but bad is a 401 even on public routes: a client sending a broken token should know.
 * No D1 read: revocation and the newest write live in the user's Durable Object (one RPC).
 */
export const authenticate = authenticateWith(BEARER);

/** The same for the RealWorld surface: `Token <jwt>` (or `Bearer <jwt>`), the same tokens. */
export const authenticateConduit = authenticateWith(TOKEN_OR_BEARER);

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function authenticateWith(scheme: RegExp) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("Authorization");
    if (header === undefined) return next();
    const match = scheme.exec(header);
    const token = match?.[1];
    if (!token || token.length > MAX_TOKEN_LENGTH) throw new AuthenticationError("Invalid access token");
    const verified = await verifyAccessToken(c.var.settings, token);
    if (!verified.ok) {
      throw new AuthenticationError(verified.reason === "expired" ? "Access token expired" : "Invalid access token");
    }
    const { userId, role, issuedAtMs, authTimeMs, sessionVersion } = verified.claims;
    // The one user-record read of the request: strongly consistent, so a revocation holds at every
    // location at once, and the user's newest write is read back wherever the request lands.
    const record = await c.var.domain.records.read(userId);
    if (sessionVersion < record.sessionVersion) throw new AuthenticationError("Access token has been revoked");
    if (record.newestWrite !== null) {
      c.var.session.raiseFloor({ kind: "bookmark", bookmark: record.newestWrite });
      c.var.cache.serveNoOlderThan(record.newestWrite);
    }
    c.set("actor", { kind: "user", id: userId, role });
    c.set("credentials", { token, issuedAtMs, authTimeMs, sessionVersion });
    c.var.log.userId = userId;
    await next();
    if (!READ_METHODS.has(c.req.method)) await recordNewestWrite(c, userId, record.newestWrite);
  });
}

/**
 * After a signed-in write: its bookmark goes to the user record, so the user's next requests read
 * at least that fresh at any location. A write that failed with a 5xx may still have committed
 * (a lost acknowledgement): then the primary's newest bookmark stands in for it. A 4xx wrote
 * nothing, and a bookmark no newer than the one the record holds adds nothing.
 */
async function recordNewestWrite(c: Context<AppEnv>, userId: string, recorded: D1Bookmark | null): Promise<void> {
  const { session, domain } = c.var;
  const failed = c.error !== undefined || c.res.status >= 500;
  if (!failed && c.res.status >= 400) return;
  const bookmark = failed ? await session.newestCommitted().catch(() => undefined) : session.getBookmark();
  if (bookmark !== undefined && isNewerBookmark(bookmark, recorded ?? undefined)) {
    await domain.records.recordWrite(userId, bookmark);
  }
}

/** What `requireUser` adds: the signed-in caller and its credentials, typed as present. */
export type WithUser = {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { user: UserActor; credentials: Credentials };
};

/**
 * After `authenticate`: 401 for anonymous callers. Handlers after it read the caller as
 * `c.var.user`, whose type says it is signed in, so they check nothing again.
 */
export const requireUser = createMiddleware<WithUser>(async (c, next) => {
  const { actor, credentials } = c.var;
  if (actor.kind !== "user" || !credentials) throw new AuthenticationError();
  c.set("user", actor);
  c.set("credentials", credentials);
  await next();
});
