/**
 * Access-token revocation without a D1 read per request: a per-user marker in KV says "tokens
 * issued before this millisecond are revoked". The auth middleware reads it on every request.
 * KV is immediate where written and converges elsewhere within about 60 s.
 */
const markerKey = (userId: string) => `auth:revoked-before:${userId}`;

/** A marker only has to outlive the tokens it revokes. */
const MARKER_SLACK_SECONDS = 60;

export async function revokeAccessTokens(
  kv: KVNamespace,
  userId: string,
  accessTokenTtlSeconds: number,
  nowMs = Date.now(),
): Promise<void> {
  await kv.put(markerKey(userId), String(nowMs), {
    expirationTtl: Math.max(60, accessTokenTtlSeconds + MARKER_SLACK_SECONDS),
  });
}

export async function isRevoked(kv: KVNamespace, userId: string, issuedAtMs: number): Promise<boolean> {
  const marker = await kv.get(markerKey(userId));
  if (marker === null) return false;
  return issuedAtMs < Number(marker);
}
