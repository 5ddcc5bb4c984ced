import { fromBase64Url, toBase64Url } from "./encoding";
import { ID_PATTERN } from "./ids";

/** Position after the last row of a page in `(created_at DESC, id DESC)` order. */
export type Cursor = { createdAt: string; id: string };

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const MAX_CURSOR_LENGTH = 512;

export function encodeCursor(cursor: Cursor): string {
  return toBase64Url(new TextEncoder().encode(JSON.stringify([cursor.createdAt, cursor.id])));
}

/** Null for anything we did not make, so the caller answers 400 rather than running a query. */
export function decodeCursor(text: string): Cursor | null {
  if (text.length > MAX_CURSOR_LENGTH) return null;
  const bytes = fromBase64Url(text);
  if (!bytes) return null;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [createdAt, id] = value;
  if (typeof createdAt !== "string" || !ISO_UTC.test(createdAt)) return null;
  if (typeof id !== "string" || !ID_PATTERN.test(id)) return null;
  return { createdAt, id };
}
