import type { Location } from "./edge";

/**
 * What each caller may see, as a function of the writes made so far: the model the edge
 * simulation's responses are checked against. Writes are recorded as snapshots of the whole
 * state, with when and where they were made and by whom. A read must reflect:
 * - (a) every write made at the reader's location, at once (only while KV is as it usually is,
 *   visible at once where written: `atOnceWhereWritten`);
 * - (b) every write made anywhere, once the propagation bound has passed;
 * - the reader's own writes, anywhere, at once (its user record names its newest write);
 * and may reflect any later write, or not yet.
 */
export type ClientName = "alice" | "bob" | "root";
export type Role = "admin" | "user" | "guest";
export type Status = "draft" | "published" | "archived";

export type ModelPost = { id: string; author: ClientName; title: string; status: Status; version: number; seq: number };
export type ModelUser = { id: string; name: string; role: Role; active: boolean; exists: boolean };
export type ModelState = { posts: ModelPost[]; users: Record<ClientName, ModelUser> };

export type Reader = { kind: "anonymous" } | { kind: "client"; name: ClientName; role: Role };

type Snapshot = { at: number; location: Location | "setup"; by: ClientName | null; state: ModelState };

function copy(state: ModelState): ModelState {
  return {
    posts: state.posts.map((post) => ({ ...post })),
    users: {
      alice: { ...state.users.alice },
      bob: { ...state.users.bob },
      root: { ...state.users.root },
    },
  };
}

/**
 * What a response says, as facts keyed by what they are about: one per post it shows (its
 * title, status, version and author name), plus `""` for the response as a whole (its status).
 */
export type Facts = Record<string, string>;

/** The fact of a post that a response does not show. */
const ABSENT = "absent";

/** Which read a response answered. */
export type ReadOf = { kind: "post"; id: string } | { kind: "list"; author?: ClientName };

/** What the reader can see of a post's own record (title, status, version), or `absent`. */
function recordView(post: ModelPost | undefined, reader: Reader): string {
  if (!post) return ABSENT;
  const visible =
    post.status === "published" ||
    (reader.kind === "client" && (reader.role === "admin" || reader.name === post.author));
  return visible ? `${post.title}:${post.status}:v${post.version}` : ABSENT;
}

/** A post's fact: its record as the reader sees it, with its author's name (author gone: absent). */
function factOf(record: string, author: ModelUser): string {
  return record === ABSENT || !author.exists ? ABSENT : `${record}:${author.name}`;
}

export type Violation = { about: string; seen: string; allowed: string[] };

/** How old the newest write a response did not reflect was (0 when it reflected them all). */
export type CheckResult = { violations: Violation[]; staleMs: number };

export class History {
  private readonly snapshots: Snapshot[] = [];
  /**
   * While requests run concurrently, the writes recorded from this index on may or may not be
   * visible to a read that raced them: none of them is required.
   */
  racingFrom: number | undefined;

  get length(): number {
    return this.snapshots.length;
  }

  constructor(
    initial: ModelState,
    at: number,
    private readonly boundMs: number,
    private readonly atOnceWhereWritten = true,
  ) {
    this.snapshots.push({ at, location: "setup", by: null, state: copy(initial) });
  }

  record(state: ModelState, at: number, location: Location, by: ClientName | null): void {
    this.snapshots.push({ at, location, by, state: copy(state) });
  }

  /**
   * Checks each fact of a response. A post's fact depends on two things different writes
   * change: the post's own record and its author's profile (name, existence). For each, the
   * response must reflect the newest change the reader is required to see, or a later one; it
   * may combine any such record with any such profile (a rename made here can be visible
   * before a post created elsewhere has arrived).
   */
  check(seen: Facts, read: ReadOf, at: number, location: Location, reader: Reader): CheckResult {
    const racingFrom = this.racingFrom ?? Number.POSITIVE_INFINITY;
    const mustSee = this.snapshots.map(
      (snapshot, index) =>
        index < racingFrom &&
        (snapshot.location === "setup" ||
          (this.atOnceWhereWritten && snapshot.location === location) ||
          snapshot.at + this.boundMs <= at ||
          (reader.kind === "client" && snapshot.by === reader.name)),
    );
    /** From the newest required change of `history` on: the values a reader may be shown. */
    const from = (history: string[]) => {
      let required = 0;
      for (let index = 1; index < history.length; index++) {
        if (history[index] !== history[index - 1] && mustSee[index]) required = index;
      }
      return required;
    };
    const profiles = (name: ClientName) => this.snapshots.map((snapshot) => snapshot.state.users[name]);
    const violations: Violation[] = [];
    let staleMs = 0;

    const ids = new Set(Object.keys(seen).filter((key) => key !== ""));
    for (const snapshot of this.snapshots) {
      for (const post of snapshot.state.posts) {
        if (read.kind === "post" ? post.id === read.id : read.author === undefined || post.author === read.author) {
          ids.add(post.id);
        }
      }
    }
    for (const id of ids) {
      const records = this.snapshots.map((snapshot) => snapshot.state.posts.find((post) => post.id === id));
      const authorName = records.find((record) => record !== undefined)?.author;
      if (!authorName) {
        violations.push({ about: id, seen: seen[id] ?? ABSENT, allowed: [ABSENT] });
        continue;
      }
      const authors = profiles(authorName);
      // Only changes the reader could see are required: an edit of an archived post made here
      // does not oblige this location to show the archiving made elsewhere.
      const views = records.map((record) => recordView(record, reader));
      const recordFrom = from(views);
      const authorFrom = from(authors.map((author) => JSON.stringify(author)));
      const allowed = new Set<string>();
      for (const view of views.slice(recordFrom)) {
        for (const author of authors.slice(authorFrom)) allowed.add(factOf(view, author));
      }
      const fact = seen[id] ?? ABSENT;
      if (!allowed.has(fact)) violations.push({ about: id, seen: fact, allowed: [...allowed] });
      const facts = views.map((view, index) => factOf(view, authors[index] as ModelUser));
      if (fact !== facts.at(-1)) {
        const shown = facts.lastIndexOf(fact);
        const missed = this.snapshots[shown + 1];
        if (shown >= 0 && missed) staleMs = Math.max(staleMs, at - missed.at);
      }
    }
    // The response as a whole: a single post is there when its fact is; an author's list is a
    // 404 once its author is gone.
    const status = seen[""] ?? "";
    if (read.kind === "post") {
      const expected = (seen[read.id] ?? ABSENT) === ABSENT ? "404" : "200";
      if (status !== expected) violations.push({ about: "", seen: status, allowed: [expected] });
    } else if (read.author !== undefined) {
      const authors: string[] = profiles(read.author).map((author) => (author.exists ? "200" : "404"));
      const allowed = [...new Set(authors.slice(from(authors)))];
      if (!allowed.includes(status)) violations.push({ about: "", seen: status, allowed });
    } else if (status !== "200") {
      violations.push({ about: "", seen: status, allowed: ["200"] });
    }
    return { violations, staleMs };
  }
}
