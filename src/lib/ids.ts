import { randomBytes, toHex } from "./encoding";

/** What the API accepts as an id (path parameters, ids inside cursors): URL-safe, 1..128 characters. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** A UUIDv7 (RFC 9562): 48-bit millisecond time, then random bits; sorts by creation time. */
export function newId(now = Date.now()): string {
  const bytes = randomBytes(16);
  let time = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Times travel as ISO-8601 UTC with milliseconds; stored the same way so they sort as text. */
export function isoNow(now = Date.now()): string {
  return new Date(now).toISOString();
}
