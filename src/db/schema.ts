import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { ONE_TIME_TOKEN_PURPOSES, POST_STATUSES, ROLES } from "../domain/vocabulary";

/** Times are ISO-8601 UTC strings with milliseconds: they sort lexically and read well in SQL. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** Always trimmed and lower-cased by the application before it gets here. */
    email: text("email").notNull(),
    name: text("name").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull().default("user"),
    isActive: integer("is_active", { mode: "boolean" }).notNull().default(true),
    /** Set when the owner followed an email-verification (or password-reset) link; null until then. */
    emailVerifiedAt: text("email_verified_at"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_email_unique").on(t.email),
    index("users_created_at_id_idx").on(t.createdAt, t.id),
    // The admin list filters by role or is_active and pages by (created_at, id).
    index("users_role_created_at_id_idx").on(t.role, t.createdAt, t.id),
    index("users_active_created_at_id_idx").on(t.isActive, t.createdAt, t.id),
  ],
);

export const posts = sqliteTable(
  "posts",
  {
    id: text("id").primaryKey(),
    authorId: text("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull(),
    content: text("content").notNull(),
    status: text("status", { enum: POST_STATUSES }).notNull().default("draft"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    publishedAt: text("published_at"),
    version: integer("version").notNull().default(1),
  },
  (t) => [
    index("posts_created_at_id_idx").on(t.createdAt, t.id),
    index("posts_author_created_at_id_idx").on(t.authorId, t.createdAt, t.id),
    index("posts_status_created_at_id_idx").on(t.status, t.createdAt, t.id),
  ],
);

/**
 * Refresh tokens are stored only as a SHA-256 hash. Every rotation adds a row to the same
 * family; presenting a row that was already rotated revokes the whole family.
 */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    familyId: text("family_id").notNull(),
    tokenHash: text("token_hash").notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    /** Set when the token was exchanged for a new pair. Presenting it again is reuse. */
    rotatedAt: text("rotated_at"),
    /** Set when the family was ended: logout, reuse detection, password change, deactivation. */
    revokedAt: text("revoked_at"),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_unique").on(t.tokenHash),
    index("refresh_tokens_family_idx").on(t.familyId),
    index("refresh_tokens_user_idx").on(t.userId),
    // Housekeeping deletes expired rows in batches (src/db/housekeeping.ts).
    index("refresh_tokens_expires_at_idx").on(t.expiresAt),
  ],
);

/** Stored responses of `POST /v1/posts` keyed by (user, Idempotency-Key), kept 24 h. */
export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status").notNull(),
    responseBody: text("response_body").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.key] }), index("idempotency_keys_created_at_idx").on(t.createdAt)],
);

/**
 * Links mailed to a user (password reset, email verification). Stored only as a SHA-256 hash;
 * bound to one user and one purpose; `used_at` makes a token single-use.
 */
export const oneTimeTokens = sqliteTable(
  "one_time_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ONE_TIME_TOKEN_PURPOSES }).notNull(),
    createdAt: text("created_at").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
  },
  (t) => [
    // A new token supersedes the user's earlier ones of the same purpose; also serves the cascade.
    index("one_time_tokens_user_purpose_idx").on(t.userId, t.purpose),
    // Housekeeping deletes expired or used rows (src/db/housekeeping.ts).
    index("one_time_tokens_expires_at_idx").on(t.expiresAt),
    index("one_time_tokens_used_at_idx").on(t.usedAt),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type PostRow = typeof posts.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
export type NewRefreshToken = typeof refreshTokens.$inferInsert;
export type NewOneTimeToken = typeof oneTimeTokens.$inferInsert;
