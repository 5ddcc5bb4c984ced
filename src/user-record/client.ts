import type { D1Bookmark } from "../db/bookmark";
import { ServiceUnavailableError } from "../errors";
import { errorMessage } from "../lib/kv-write";
import { logWarning } from "../lib/log";
import type { UserRecord, UserRecordState } from "./durable-object";

/**
 * The per-user records (src/user-record/durable-object.ts) as the rest of the code uses them: each
 * call is one RPC to the user's Durable Object, wherever it lives, and a failure is mapped to what
 * the caller must do about it.
 */
export type UserRecords = {
  /** Fails closed (503): a token whose revocation cannot be checked is not honoured. */
  read(userId: string): Promise<UserRecordState>;
  /**
   * Ends every session of the user and returns the new session version. Tried twice; if both
   * fail, the change that asked for it has been saved but the tokens live on: 503
   * `revocation_pending`, and repeating the request ends them.
   */
  endSessions(userId: string): Promise<number>;
  /** Best effort (tried twice, then logged): the write is already saved and must not turn into an error. */
  recordWrite(userId: string, bookmark: D1Bookmark): Promise<void>;
};

async function twice<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch {
    return call();
  }
}

export function userRecords(namespace: DurableObjectNamespace<UserRecord>): UserRecords {
  const stub = (userId: string) => namespace.get(namespace.idFromName(userId));
  return {
    async read(userId) {
      try {
        return await twice(() => stub(userId).read());
      } catch (error) {
        logWarning("user record not readable", { user_id: userId, error: errorMessage(error) });
        throw new ServiceUnavailableError("Cannot check the session right now", { dependency: "user_record" });
      }
    },
    async endSessions(userId) {
      try {
        return await twice(() => stub(userId).endSessions());
      } catch (error) {
        logWarning("sessions not ended", { user_id: userId, error: errorMessage(error) });
        throw new ServiceUnavailableError(
          "The change was saved, but existing access tokens could not be revoked yet: send the same request again",
          { dependency: "user_record", reason: "revocation_pending" },
        );
      }
    },
    async recordWrite(userId, bookmark) {
      try {
        await twice(() => stub(userId).recordWrite(bookmark));
      } catch (error) {
        logWarning("newest write not recorded", { user_id: userId, error: errorMessage(error) });
      }
    },
  };
}
