import { z } from "zod";
import { decodeCursor, MAX_CURSOR_LENGTH } from "../lib/cursor";

/**
 * User-supplied text: length bounds, not blank, and stored exactly as sent. NUL and lone
 * surrogates are refused because they would not read back byte-identical from D1.
 */
export function text(min: number, max: number) {
  return z
    .string()
    .min(min)
    .max(max)
    .refine((value) => value.isWellFormed(), "must be valid Unicode (no lone surrogates)")
    .refine((value) => !value.includes("\u0000"), "must not contain NUL characters")
    .refine((value) => min === 0 || value.trim().length > 0, "must not be blank");
}

export const idSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "must be an id (letters, digits, - and _; at most 128)")
  .meta({ description: "Opaque, time-ordered id (UUIDv7)", example: "019ac2e4-5b7a-7c31-9d2e-4f1a2b3c4d5e" });

export const idParamSchema = z.strictObject({ id: idSchema });

export const isoTimeSchema = z.iso.datetime().meta({ example: "2026-11-27T02:02:43.123Z" });

export const cursorSchema = z
  .string()
  .max(MAX_CURSOR_LENGTH)
  .transform((raw, ctx) => {
    const cursor = decodeCursor(raw);
    if (!cursor) {
      ctx.addIssue({ code: "custom", message: "is not a cursor this API returned" });
      return z.NEVER;
    }
    return cursor;
  })
  .meta({ description: "Opaque `next_cursor` from the previous page" });

export const limitSchema = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .default(20)
  .meta({ description: "Page size, 1..100" });

export function pageSchema<Item extends z.ZodType>(item: Item) {
  return z.object({
    data: z.array(item),
    next_cursor: z.string().nullable().meta({ description: "Pass as `cursor` for the next page; null at the end" }),
  });
}

export const errorSchema = z
  .object({
    error: z.string(),
    type: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    request_id: z.string(),
  })
  .meta({ id: "Error" });
