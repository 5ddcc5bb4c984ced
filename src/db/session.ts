/**
 * D1 read replication (Sessions API). Every request runs its queries in one D1 session:
 * - a client that sends `X-D1-Bookmark` (from an earlier response) gets reads at least as fresh
 *   as that bookmark, so it always reads its own writes, even from a replica;
 * - otherwise reads (GET/HEAD) may start on the nearest replica (`first-unconstrained`), and
 *   writes start on the primary (`first-primary`).
 * The response carries the session's latest bookmark in `X-D1-Bookmark`.
 */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

/** D1 bookmarks are four hex groups, e.g. `00000001-00000002-00004e6f-0d23…`. */
const BOOKMARK_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32,64}$/;

export type SessionChoice =
  | { kind: "bookmark"; bookmark: string }
  | { kind: "constraint"; constraint: "first-primary" | "first-unconstrained" };

export type SessionDecision = { ok: true; choice: SessionChoice } | { ok: false; reason: string };

const READ_METHODS = new Set(["GET", "HEAD"]);

/** Which session a request runs in. Pure, so the rule is unit-tested without replicas. */
export function chooseSession(method: string, bookmark: string | undefined): SessionDecision {
  if (bookmark !== undefined && !BOOKMARK_PATTERN.test(bookmark)) {
    return { ok: false, reason: "must be a bookmark returned by this API" };
  }
  // Writes always go to the primary; a bookmark adds nothing there.
  if (!READ_METHODS.has(method)) return { ok: true, choice: { kind: "constraint", constraint: "first-primary" } };
  if (bookmark !== undefined) return { ok: true, choice: { kind: "bookmark", bookmark } };
  return { ok: true, choice: { kind: "constraint", constraint: "first-unconstrained" } };
}

export function openSession(d1: D1Database, choice: SessionChoice): D1DatabaseSession {
  return d1.withSession(choice.kind === "bookmark" ? choice.bookmark : choice.constraint);
}
