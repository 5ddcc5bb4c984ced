import { base64url } from "jose";

/** base64url without padding (jose's), for tokens, cursors and hash encodings. */
export function toBase64Url(bytes: Uint8Array): string {
  return base64url.encode(bytes);
}

/** Returns null for anything that is not unpadded base64url, so callers can answer 400. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  try {
    return base64url.decode(text);
  } catch {
    return null;
  }
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))));
}
