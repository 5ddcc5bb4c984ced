import type { Location } from "./edge";

/**
 * What each caller may see, as a function of the writes made so far: the model the edge
 * simulation's responses are checked against. Writes are recorded as snapshots of the whole
 * state, with when and where they were made and by whom. A read must reflect:
 * - (a) every write made at the reader's location, at once;
 * - (b) every write made anywhere, once the propagation bound has passed;
 * - the reader's own writes, anywhere, at once (it carries their D1 bookmark);
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

function canSee(state: ModelState, post: ModelPost, reader: Reader): boolean {
  if (!state.users[post.author].exists) return false;
  if (post.status === "published") return true;
  return reader.kind === "client" && (reader.role === "admin" || reader.name === post.author);
}

/**
 * What a response says, as facts keyed by what they are about: one per post it shows (its
 * title, status, version and author name), plus `""` for the response as a whole (its status).
 * Each fact is checked against the history of that fact alone, so a write elsewhere that has
 * not arrived yet cannot make an unrelated fact look stale.
 */
export type Facts = Record<string, string>;

/** The fact of a post that a response does not show. */
const ABSENT = "absent";

/** `GET /v1/posts/:id` as the reader would see it. */
export function postView(state: ModelState, id: string, reader: Reader): Facts {
  const post = state.posts.find((candidate) => candidate.id === id);
  if (!post || !canSee(state, post, reader)) return { "": "404" };
  return { "": "200", [id]: describe(state, post) };
}

/** A page of `GET /v1/posts` (or of one author's posts). */
export function listView(state: ModelState, reader: Reader, author?: ClientName): Facts {
  if (author && !state.users[author].exists) return { "": "404" };
  const facts: Facts = { "": "200" };
  for (const post of state.posts) {
    if ((author === undefined || post.author === author) && canSee(state, post, reader)) {
      facts[post.id] = describe(state, post);
    }
  }
  return facts;
}

export function describe(state: ModelState, post: ModelPost): string {
  return `${post.title}:${post.status}:v${post.version}:${state.users[post.author].name}`;
}

export type Violation = { about: string; seen: string; allowed: string[] };

/** How old the newest write a response did not reflect was (0 when it reflected them all). */
export type CheckResult = { violations: Violation[]; staleMs: number };

export class History {
  private readonly snapshots: Snapshot[] = [];

  constructor(
    initial: ModelState,
    at: number,
    private readonly boundMs: number,
  ) {
    this.snapshots.push({ at, location: "setup", by: null, state: copy(initial) });
  }

  record(state: ModelState, at: number, location: Location, by: ClientName | null): void {
    this.snapshots.push({ at, location, by, state: copy(state) });
  }

  /**
   * Checks each fact of a response: it must be the fact as of the newest write that changed it
   * and that the reader is required to see, or as of any later write.
   */
  check(seen: Facts, view: (state: ModelState) => Facts, at: number, location: Location, reader: Reader): CheckResult {
    const views = this.snapshots.map((snapshot) => view(snapshot.state));
    const mustSee = this.snapshots.map(
      (snapshot) =>
        snapshot.location === "setup" ||
        snapshot.location === location ||
        snapshot.at + this.boundMs <= at ||
        (reader.kind === "client" && snapshot.by === reader.name),
    );
    const about = new Set([...Object.keys(seen), ...views.flatMap((facts) => Object.keys(facts))]);
    const violations: Violation[] = [];
    let staleMs = 0;
    for (const key of about) {
      const history = views.map((facts) => facts[key] ?? ABSENT);
      let required = 0;
      for (let index = 1; index < history.length; index++) {
        if (history[index] !== history[index - 1] && mustSee[index]) required = index;
      }
      const allowed = [...new Set(history.slice(required))];
      const fact = seen[key] ?? ABSENT;
      if (!allowed.includes(fact)) violations.push({ about: key, seen: fact, allowed });
      const shown = history.lastIndexOf(fact);
      const missed = history.findIndex((value, index) => index > shown && value !== fact);
      if (shown >= 0 && missed > 0) staleMs = Math.max(staleMs, at - (this.snapshots[missed] as Snapshot).at);
    }
    return { violations, staleMs };
  }
}
