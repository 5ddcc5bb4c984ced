import { ServiceUnavailableError } from "../errors";
import { errorMessage, writeWithRetries } from "../lib/kv-write";
import { logWarning } from "../lib/log";

/**
 * Access-token revocation without a D1 read per request: a per-user marker in KV says "tokens
 * issued before this millisecond are revoked". The auth middleware reads it on every request.
 * KV is immediate where written and converges elsewhere within about 60 s.
 */
const markerKey = (userId: string) => `auth:revoked-before:${userId}`;

/** A marker only has to outlive the tokens it revokes. */
const MARKER_SLACK_SECONDS = 60;

/**
 * Writes the marker. Call it after the D1 writes that made the tokens invalid have committed,
 * with the time taken then: a token signed by a refresh that committed before those writes is
 * older than the marker. The write is retried past KV's one-write-per-second limit; if it still
 * fails the change has been saved but the tokens live on, so the request answers 503 and the
 * client's retry of the same request writes the marker again.
 */
export async function revokeAccessTokens(
  kv: KVNamespace,
  userId: string,
  accessTokenTtlSeconds: number,
  revokedBeforeMs: number,
): Promise<void> {
  const outcome = await writeWithRetries(() =>
    kv.put(markerKey(userId), String(revokedBeforeMs), {
      expirationTtl: Math.max(60, accessTokenTtlSeconds + MARKER_SLACK_SECONDS),
    }),
  );
  if (!outcome.ok) {
    logWarning("revocation marker not written", { user_id: userId, error: errorMessage(outcome.error) });
    throw new ServiceUnavailableError(
      "The change was saved, but existing access tokens could not be revoked yet: send the same request again",
      { dependency: "kv", reason: "revocation_pending" },
    );
  }
}

export async function isRevoked(kv: KVNamespace, userId: string, issuedAtMs: number): Promise<boolean> {
  const marker = await kv.get(markerKey(userId));
  if (marker === null) return false;
  // At or before: the marker is taken after the revoking write committed, in the same clock.
  return issuedAtMs <= Number(marker);
}
