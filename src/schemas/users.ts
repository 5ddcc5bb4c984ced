import { z } from "zod";
import { ROLES } from "../db/schema";
import { cursorSchema, idSchema, isoTimeSchema, limitSchema, text } from "./common";

/** Trimmed and lower-cased before storage and comparison, as the contract says. */
export const emailSchema = z.string().max(254).trim().toLowerCase().pipe(z.email());
export const passwordSchema = z.string().min(8).max(128);
export const nameSchema = text(1, 100);
export const roleSchema = z.enum(ROLES);

export const userSchema = z
  .object({
    id: idSchema,
    email: z.string(),
    name: z.string(),
    role: roleSchema,
    is_active: z.boolean(),
    created_at: isoTimeSchema,
    updated_at: isoTimeSchema,
  })
  .meta({ id: "User" });

export const publicProfileSchema = z.object({ id: idSchema, name: z.string() }).meta({ id: "PublicProfile" });

export const updateMeSchema = z
  .strictObject({
    name: nameSchema.optional(),
    password: passwordSchema.optional(),
    current_password: z.string().max(128).optional(),
  })
  .refine((body) => body.password === undefined || body.current_password !== undefined, {
    message: "is required to change the password",
    path: ["current_password"],
  });

export const adminUpdateUserSchema = z.strictObject({
  name: nameSchema.optional(),
  role: roleSchema.optional(),
  is_active: z.boolean().optional(),
});

const booleanText = z.enum(["true", "false"]).transform((value) => value === "true");

export const listUsersQuerySchema = z.strictObject({
  role: roleSchema.optional(),
  is_active: booleanText.optional(),
  email: z.string().min(1).max(254).trim().toLowerCase().optional().meta({ description: "Email prefix" }),
  cursor: cursorSchema.optional(),
  limit: limitSchema,
});
