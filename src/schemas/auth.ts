import * as z from "zod/mini";
import { emailSchema, nameSchema, passwordSchema, userSchema } from "./users";

export const registerSchema = z.strictObject({ email: emailSchema, name: nameSchema, password: passwordSchema });

/** Login does not enforce the password policy: a wrong password is a 401, not a 400. */
export const loginSchema = z.strictObject({
  email: emailSchema,
  password: z.string().check(z.minLength(1), z.maxLength(128)),
});

export const refreshTokenSchema = z.strictObject({
  refresh_token: z.string().check(z.minLength(1), z.maxLength(512)),
});

export const tokenPairSchema = z
  .object({
    user: userSchema,
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().check(z.int(), z.meta({ description: "Access token lifetime in seconds" })),
  })
  .check(z.meta({ id: "TokenPair" }));

/** A token from a mailed link (`?token=`). Anything else that is a string gets the one "invalid token" answer. */
const linkTokenSchema = z
  .string()
  .check(z.maxLength(512), z.meta({ description: "The `token` parameter of the mailed link" }));

export const passwordResetRequestSchema = z.strictObject({ email: emailSchema });

export const passwordResetConfirmSchema = z.strictObject({ token: linkTokenSchema, password: passwordSchema });

export const emailVerificationConfirmSchema = z.strictObject({ token: linkTokenSchema });

export const acceptedSchema = z.object({ status: z.literal("accepted") }).check(z.meta({ id: "Accepted" }));
