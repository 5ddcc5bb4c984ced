/**
 * D1 read replication (Sessions API). Every request runs its queries in one D1 session:
 * - a client that sends `X-D1-Bookmark` (from an earlier response) gets reads at least as fresh
 *   as that bookmark, so it always reads its own writes, even from a replica;
 * - otherwise reads (GET/HEAD) may start on the nearest replica (`first-unconstrained`), and
 *   writes start on the primary (`first-primary`).
 * The response carries the session's latest bookmark in `X-D1-Bookmark`, tagged so that only
 * bookmarks this service issued are trusted when they come back (db/issued-bookmark.ts).
 */
import { type D1Bookmark, newestBookmark } from "./bookmark";
import type { D1Like } from "./resilient-d1";

export const BOOKMARK_HEADER = "X-D1-Bookmark";

/** D1 bookmarks are four hex groups, e.g. `00000001-00000002-00004e6f-0d23…`. */
const BOOKMARK_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32,64}$/;

export type SessionChoice =
  | { kind: "bookmark"; bookmark: D1Bookmark }
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

/** How fresh the next reads must be: at least a bookmark, or the primary's newest state. */
export type ReadFloor = { kind: "bookmark"; bookmark: D1Bookmark } | { kind: "primary" };

/** Whether a read at `bookmark` is at least as fresh as `floor` (only the primary is "primary"). */
export function meetsFloor(bookmark: D1Bookmark | undefined, floor: ReadFloor): boolean {
  return floor.kind === "bookmark" && bookmark !== undefined && bookmark >= floor.bookmark;
}

/**
 * The request's D1 session, whose freshness floor can be raised between queries: the read cache
 * raises it to the bookmark of the write that retired an entry, so the read that refills the
 * entry cannot come from a replica that has not seen that write yet.
 */
export class RequestSession implements D1Like {
  private session: D1DatabaseSession;
  private onPrimary: boolean;
  /** Newest bookmark of the sessions this request left behind when it raised its floor. */
  private earlier: D1Bookmark | undefined;

  constructor(
    private readonly d1: D1Database,
    choice: SessionChoice,
  ) {
    this.session = d1.withSession(choice.kind === "bookmark" ? choice.bookmark : choice.constraint);
    this.onPrimary = choice.kind === "constraint" && choice.constraint === "first-primary";
  }

  /** Later queries read at least as fresh as `floor`. */
  raiseFloor(floor: ReadFloor): void {
    if (this.onPrimary) return;
    if (floor.kind === "primary") {
      this.switchTo("first-primary");
      this.onPrimary = true;
      return;
    }
    if (meetsFloor(this.getBookmark(), floor)) return;
    this.switchTo(floor.bookmark);
  }

  /** Whether every later read goes to the primary (a write's session, or a raised floor). */
  readsPrimary(): boolean {
    return this.onPrimary;
  }

  /** The newest bookmark this request has read or written at; undefined before any query. */
  getBookmark(): D1Bookmark | undefined {
    return newestBookmark(this.earlier, this.session.getBookmark() ?? undefined);
  }

  /**
   * The primary's newest bookmark: at least as new as every write committed so far, anywhere.
   * One query on the primary, outside this request's session.
   */
  async newestCommitted(): Promise<D1Bookmark | undefined> {
    const primary = this.d1.withSession("first-primary");
    await primary.prepare("select 1").first();
    return primary.getBookmark() ?? undefined;
  }

  prepare(query: string): D1PreparedStatement {
    return this.session.prepare(query);
  }

  batch<T = unknown>(statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
    return this.session.batch<T>(statements);
  }

  private switchTo(constraintOrBookmark: string): void {
    this.earlier = this.getBookmark();
    this.session = this.d1.withSession(constraintOrBookmark);
  }
}
