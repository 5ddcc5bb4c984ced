// zod/mini keeps the bundle small: its functional API tree-shakes, classic zod's methods cannot.
import * as z from "zod/mini";
import { decodeCursor, MAX_CURSOR_LENGTH } from "../lib/cursor";
import { ID_PATTERN } from "../lib/ids";

/**
 * User-supplied text: length bounds, not blank, and stored exactly as sent. NUL and lone
 * surrogates are refused because they would not read back byte-identical from D1.
 */
export function text(min: number, max: number) {
  return z.string().check(
    z.minLength(min),
    z.maxLength(max),
    z.refine((value) => value.isWellFormed(), "must be valid Unicode (no lone surrogates)"),
    z.refine((value) => !value.includes("\u0000"), "must not contain NUL characters"),
    // Blank means whitespace only; an empty string is for `min` to allow or refuse.
    z.refine((value) => value.length === 0 || value.trim().length > 0, "must not be blank"),
  );
}

export const idSchema = z
  .string()
  .check(
    z.regex(ID_PATTERN, "must be an id (letters, digits, - and _; at most 128)"),
    z.meta({ description: "Opaque, time-ordered id (UUIDv7)", example: "019ac2e4-5b7a-7c31-9d2e-4f1a2b3c4d5e" }),
  );

export const idParamSchema = z.strictObject({ id: idSchema });

export const isoTimeSchema = z.iso.datetime().check(z.meta({ example: "2026-11-27T02:02:43.123Z" }));

export const cursorSchema = z.pipe(
  z
    .string()
    .check(z.maxLength(MAX_CURSOR_LENGTH), z.meta({ description: "Opaque `next_cursor` of the previous page" })),
  z.transform((raw: string, ctx) => {
    const cursor = decodeCursor(raw);
    if (!cursor) {
      ctx.issues.push({ code: "custom", message: "is not a cursor this API returned", input: raw });
      return z.NEVER;
    }
    return cursor;
  }),
);

/** Plain decimal digits only: `1e1`, `0x14` or ` 5` are not page sizes. */
export const limitSchema = z._default(
  z.pipe(
    z
      .string()
      .check(
        z.regex(/^\d{1,3}$/, "must be a whole number from 1 to 100"),
        z.meta({ description: "Page size, 1..100" }),
      ),
    z.pipe(
      z.transform((raw: string) => Number(raw)),
      z.number().check(z.int(), z.minimum(1), z.maximum(100)),
    ),
  ),
  20,
);

export function pageSchema<Item extends z.ZodMiniType>(item: Item) {
  return z.object({
    data: z.array(item),
    next_cursor: z
      .nullable(z.string())
      .check(z.meta({ description: "Pass as `cursor` for the next page; null at the end" })),
  });
}

export const errorSchema = z
  .object({
    error: z.string(),
    type: z.string(),
    details: z
      .record(z.string(), z.unknown())
      .check(z.meta({ description: "Always an object: `{}` when there is nothing to add" })),
    request_id: z.string(),
  })
  .check(z.meta({ id: "Error" }));

/**
 * Options for object-level refinements: run only when the object itself is valid, so a body
 * with an unknown field gets one issue naming that field, not a second one about the whole.
 */
export const ONLY_WHEN_VALID = {
  when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0,
} as const;
