import { DurableObject } from "cloudflare:workers";
import type { D1Bookmark } from "../db/bookmark";

/**
 * One per user (named by the user id), one instance worldwide, with strongly consistent storage:
 * what the session rules must read the same at every location, which KV cannot promise (a KV
 * write is only "usually" visible at once, even where it was made).
 * - `sessionVersion`: access tokens carry the version they were signed under (`sv`); ending the
 *   sessions moves it on, so every token signed before fails at once, everywhere. A version, not a
 *   time: the clocks of different machines are not promised to agree.
 * - `newestWrite`: the D1 bookmark of the user's newest write, so the user's next request reads
 *   at least that fresh at any location, with or without `X-D1-Bookmark`.
 */
export type UserRecordState = { sessionVersion: number; newestWrite: D1Bookmark | null };

const STATE_KEY = "state";
const INITIAL: UserRecordState = { sessionVersion: 0, newestWrite: null };

export class UserRecord extends DurableObject<Cloudflare.Env> {
  private state(): UserRecordState {
    return this.ctx.storage.kv.get<UserRecordState>(STATE_KEY) ?? INITIAL;
  }

  /** The record as it stands (what every token-carrying request reads once). */
  read(): UserRecordState {
    return this.state();
  }

  /** Ends every session: tokens signed under the current version stop working. Returns the new one. */
  endSessions(): number {
    const state = this.state();
    const next = { ...state, sessionVersion: state.sessionVersion + 1 };
    this.ctx.storage.kv.put(STATE_KEY, next);
    return next.sessionVersion;
  }

  /** The user wrote at `bookmark`: later requests read at least that fresh. Keeps the newest. */
  recordWrite(bookmark: D1Bookmark): void {
    const state = this.state();
    if (state.newestWrite !== null && state.newestWrite >= bookmark) return;
    this.ctx.storage.kv.put(STATE_KEY, { ...state, newestWrite: bookmark });
  }
}
