import { createMiddleware } from "hono/factory";
import type { AppEnv, Credentials } from "../app-env";
import { verifyAccessToken } from "../auth/access-token";
import { isRevoked } from "../auth/revocation";
import type { UserActor } from "../domain/vocabulary";
import { AuthenticationError, ServiceUnavailableError } from "../errors";

/** Longer than any token we issue; anything bigger is refused before any crypto runs. */
const MAX_TOKEN_LENGTH = 4096;

/** `Authorization` schemes: `/v1` speaks OAuth's `Bearer`; RealWorld clients send `Token`. */
const BEARER = /^Bearer +([^\s]+) *$/i;
const TOKEN_OR_BEARER = /^(?:Token|Bearer) +([^\s]+) *$/i;

/**
 * Reads `Authorization: Bearer <jwt>` when present and sets `c.var.actor`. A header that is
 * present but bad is a 401 even on public routes: a client sending a broken token should know.
 * No D1 read: the revocation marker lives in KV.
 */
export const authenticate = authenticateWith(BEARER);

/** The same for the RealWorld surface: `Token <jwt>` (or `Bearer <jwt>`), the same tokens. */
export const authenticateConduit = authenticateWith(TOKEN_OR_BEARER);

function authenticateWith(scheme: RegExp) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("Authorization");
    if (header !== undefined) {
      const match = scheme.exec(header);
      const token = match?.[1];
      if (!token || token.length > MAX_TOKEN_LENGTH) throw new AuthenticationError("Invalid access token");
      const verified = await verifyAccessToken(c.var.settings, token);
      if (!verified.ok) {
        throw new AuthenticationError(verified.reason === "expired" ? "Access token expired" : "Invalid access token");
      }
      const { userId, role, issuedAtMs, authTimeMs } = verified.claims;
      if (await revokedFailClosed(c.env.KV, userId, issuedAtMs)) {
        throw new AuthenticationError("Access token has been revoked");
      }
      c.set("actor", { kind: "user", id: userId, role });
      c.set("credentials", { token, issuedAtMs, authTimeMs });
      c.var.log.userId = userId;
    }
    await next();
  });
}

/** Revocation fails closed: if KV cannot answer, a possibly-revoked token is not honoured. */
async function revokedFailClosed(kv: KVNamespace, userId: string, issuedAtMs: number): Promise<boolean> {
  try {
    return await isRevoked(kv, userId, issuedAtMs);
  } catch {
    throw new ServiceUnavailableError("Cannot check token revocation right now", { dependency: "kv" });
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
