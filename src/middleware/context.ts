import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { PublicCache } from "../cache/public-cache";
import { loadSettings } from "../config";
import type { D1Bookmark } from "../db/bookmark";
import { createDb } from "../db/client";
import { issueBookmark, readIssuedBookmark } from "../db/issued-bookmark";
import { DEFAULT_RETRY_POLICY, resilientD1 } from "../db/resilient-d1";
import { BOOKMARK_HEADER, chooseSession, RequestSession } from "../db/session";
import { ServiceUnavailableError, ValidationError } from "../errors";
import { addWarning, logWarning } from "../lib/log";
import { userRecords } from "../user-record/client";

/**
 * Puts the parsed settings, the Drizzle client (inside a D1 session, see db/session.ts) and the
 * read cache on the context. With invalid settings every
 * route answers 503 and the log names the bad settings (never their values).
 */
export const appContext = createMiddleware<AppEnv>(async (c, next) => {
  const result = await loadSettings(c.env);
  if (!result.ok) {
    logWarning("invalid configuration", { invalid_settings: result.invalid, request_id: c.get("requestId") });
    throw new ServiceUnavailableError("Service is misconfigured", { invalid_settings: result.invalid });
  }
  c.set("settings", result.settings);
  const { jwtKey } = result.settings;
  const clientBookmark = await trustedBookmark(c, jwtKey);
  const decision = chooseSession(c.req.method, clientBookmark);
  if (!decision.ok) throw invalidBookmark(decision.reason);
  const session = new RequestSession(c.env.DB, decision.choice);
  const { timings } = c.var;
  c.set(
    "db",
    createDb(
      resilientD1(session, DEFAULT_RETRY_POLICY, (ms) => {
        timings.db += ms;
      }),
    ),
  );
  c.set(
    "cache",
    new PublicCache({
      kv: c.env.KV,
      waitUntil: (promise) => c.executionCtx.waitUntil(promise),
      warn: (message) => addWarning(c.var.log, message),
      freshness: session,
      clientBookmark: decision.choice.kind === "bookmark" ? decision.choice.bookmark : undefined,
      onWait: (ms) => {
        timings.cache += ms;
      },
    }),
  );
  c.set("session", session);
  c.set("domain", {
    db: c.var.db,
    cache: c.var.cache,
    records: userRecords(c.env.USER_RECORDS),
    settings: result.settings,
    bookmark: () => session.getBookmark(),
  });
  c.set("actor", { kind: "anonymous" });
  await next();
  // A request served without D1 (a cache hit) hands the client's own bookmark back.
  const bookmark = session.getBookmark() ?? clientBookmark;
  if (bookmark) c.header(BOOKMARK_HEADER, await issueBookmark(jwtKey, bookmark));
});

function invalidBookmark(reason: string): ValidationError {
  return new ValidationError(`Invalid ${BOOKMARK_HEADER} header`, [{ path: BOOKMARK_HEADER, message: reason }]);
}

/**
 * The client's `X-D1-Bookmark`, if this service issued it. A malformed one is a 400; a
 * well-formed one we did not issue (forged, or from before bookmarks were signed) is ignored, as
 * if none was sent: it is never echoed, and never raises a read floor or stamps a shared entry.
 */
async function trustedBookmark(c: Context<AppEnv>, key: CryptoKey): Promise<D1Bookmark | undefined> {
  const header = c.req.header(BOOKMARK_HEADER);
  if (header === undefined) return undefined;
  const presented = await readIssuedBookmark(key, header);
  const format = chooseSession(c.req.method, presented.bookmark);
  if (!format.ok) throw invalidBookmark(format.reason);
  if (presented.issued) return presented.bookmark;
  addWarning(c.var.log, `${BOOKMARK_HEADER} not issued by this service: ignored`);
  return undefined;
}
