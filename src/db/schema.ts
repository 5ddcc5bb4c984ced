import { sql } from "drizzle-orm";
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
    /**
     * The session version the user's tokens had when the password or email last changed: tokens
     * signed under it or earlier should be dead. If ending the sessions failed (a 503), a request
     * that still carries such a token ends them. A version, not a time: clocks of different
     * machines are not promised to agree.
     */
    credentialsChangedInVersion: integer("credentials_changed_in_version"),
    /** The public handle of the RealWorld surface; unique ignoring case. Null until the user picks one. */
    username: text("username"),
    bio: text("bio"),
    image: text("image"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("users_email_unique").on(t.email),
    uniqueIndex("users_username_lower_unique").on(sql`lower(${t.username})`),
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
    /** URL name of the post on the RealWorld surface: from the title, plus a random suffix; never changes. */
    slug: text("slug").notNull(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    content: text("content").notNull(),
    status: text("status", { enum: POST_STATUSES }).notNull().default("draft"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    publishedAt: text("published_at"),
    version: integer("version").notNull().default(1),
  },
  (t) => [
    uniqueIndex("posts_slug_unique").on(t.slug),
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
    /**
     * When the sign-in that started this family checked the password (OpenID Connect's
     * `auth_time`), copied unchanged to every successor. Null for families from before it was
     * recorded: they count as signed in long ago.
     */
    authenticatedAt: text("authenticated_at"),
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
    /** The address the link was mailed to: the token works only while it is the account's. */
    email: text("email"),
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

/** Tag names, each stored once; posts link to them through `post_tags`. */
export const tags = sqliteTable("tags", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull().unique("tags_name_unique"),
});

export const postTags = sqliteTable(
  "post_tags",
  {
    postId: text("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    tagId: integer("tag_id")
      .notNull()
      .references(() => tags.id, { onDelete: "cascade" }),
  },
  // The key serves a post's tags; the index serves `?tag=` (posts of one tag).
  (t) => [primaryKey({ columns: [t.postId, t.tagId] }), index("post_tags_tag_post_idx").on(t.tagId, t.postId)],
);

export const favorites = sqliteTable(
  "favorites",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    postId: text("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    createdAt: text("created_at").notNull(),
  },
  // The key serves `?favorited=` and "did I favorite it"; the index serves counts per post.
  (t) => [primaryKey({ columns: [t.userId, t.postId] }), index("favorites_post_idx").on(t.postId)],
);

export const follows = sqliteTable(
  "follows",
  {
    followerId: text("follower_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    followeeId: text("followee_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: text("created_at").notNull(),
  },
  // The key serves the feed (whom I follow); the index serves the cascade from the followee.
  (t) => [primaryKey({ columns: [t.followerId, t.followeeId] }), index("follows_followee_idx").on(t.followeeId)],
);

/** Integer ids: the RealWorld spec makes a comment's id an integer. */
export const comments = sqliteTable(
  "comments",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    postId: text("post_id")
      .notNull()
      .references(() => posts.id, { onDelete: "cascade" }),
    authorId: text("author_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    body: text("body").notNull(),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [index("comments_post_id_idx").on(t.postId, t.id), index("comments_author_idx").on(t.authorId)],
);

export type UserRow = typeof users.$inferSelect;
export type PostRow = typeof posts.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
export type NewRefreshToken = typeof refreshTokens.$inferInsert;
export type NewOneTimeToken = typeof oneTimeTokens.$inferInsert;
