import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from "../errors";

/** The contract's default request body limit. */
export const DEFAULT_BODY_MAX_BYTES = 64 * 1024;

/**
 * Post (and article) bodies may carry 100,000 characters of content; escaped as JSON (`\uXXXX`,
 * 6 bytes per UTF-16 unit) that is up to 600,000 bytes, so their writes get a larger limit.
 */
export const POST_BODY_MAX_BYTES = 640 * 1024;

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new PayloadTooLargeError(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * Enforces JSON bodies: 415 for another media type, 413 past `maxBytes` (checked on the declared
 * length and again while streaming, before any parsing), 400 for bytes that are not UTF-8 JSON.
 * The parsed value is handed to the validator through Hono's body cache.
 */
export function jsonBody(maxBytes = DEFAULT_BODY_MAX_BYTES) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
    if (!JSON_MEDIA_TYPE.test(mediaType)) throw new UnsupportedMediaTypeError();
    const declared = Number(c.req.header("Content-Length") ?? "0");
    if (declared > maxBytes) throw new PayloadTooLargeError(maxBytes);
    const bytes = await readLimited(c.req.raw.body, maxBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch {
      throw new ValidationError("Malformed JSON in request body", [{ path: "", message: "Body is not valid JSON" }]);
    }
    c.req.bodyCache.json = Promise.resolve(parsed);
    await next();
  });
}
