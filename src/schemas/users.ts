import * as z from "zod/mini";
import { ROLES } from "../domain/vocabulary";
import { cursorSchema, idSchema, isoTimeSchema, limitSchema, ONLY_WHEN_VALID, text } from "./common";

/** Trimmed and lower-cased before storage and comparison, as the contract says. */
export const emailSchema = z.pipe(
  // Normalise first: the format check must see the trimmed, lower-cased address.
  z
    .string()
    .check(z.maxLength(254), z.trim(), z.toLowerCase(), z.meta({ format: "email", example: "ada@example.com" })),
  z.email("must be an email address"),
);
export const passwordSchema = z.string().check(z.minLength(8), z.maxLength(128));
export const nameSchema = text(1, 100);
export const roleSchema = z.enum(ROLES);

export const userSchema = z
  .object({
    id: idSchema,
    email: z.string(),
    name: z.string(),
    role: roleSchema,
    is_active: z.boolean(),
    email_verified: z.boolean(),
    created_at: isoTimeSchema,
    updated_at: isoTimeSchema,
  })
  .check(z.meta({ id: "User" }));

export const publicProfileSchema = z.object({ id: idSchema, name: z.string() }).check(z.meta({ id: "PublicProfile" }));

export const updateMeSchema = z
  .strictObject({
    name: z.optional(nameSchema),
    password: z.optional(passwordSchema),
    current_password: z.optional(z.string().check(z.maxLength(128))),
  })
  .check(
    z.refine((body) => body.name !== undefined || body.password !== undefined, {
      message: "must change at least one field",
      ...ONLY_WHEN_VALID,
    }),
    z.refine((body) => body.password === undefined || body.current_password !== undefined, {
      message: "is required to change the password",
      path: ["current_password"],
    }),
  );

export const adminUpdateUserSchema = z
  .strictObject({
    name: z.optional(nameSchema),
    role: z.optional(roleSchema),
    is_active: z.optional(z.boolean()),
  })
  .check(
    z.refine((body) => Object.keys(body).length > 0, { message: "must change at least one field", ...ONLY_WHEN_VALID }),
  );

const booleanText = z.pipe(
  z.enum(["true", "false"]),
  z.transform((value: "true" | "false") => value === "true"),
);

export const listUsersQuerySchema = z.strictObject({
  role: z.optional(roleSchema),
  is_active: z.optional(booleanText),
  email: z.optional(
    z
      .string()
      .check(z.minLength(1), z.maxLength(254), z.trim(), z.toLowerCase(), z.meta({ description: "Email prefix" })),
  ),
  cursor: z.optional(cursorSchema),
  limit: limitSchema,
});
