/**
 * The domain's words: who may act (roles) and what state a post is in. Tables, schemas and
 * both HTTP surfaces take them from here; the tables do not own them.
 */
export const ROLES = ["admin", "user", "guest"] as const;
export type Role = (typeof ROLES)[number];

export const POST_STATUSES = ["draft", "published", "archived"] as const;
export type PostStatus = (typeof POST_STATUSES)[number];

/**
 * The status a post has to be an article of the RealWorld surface: drafts and archived posts do
 * not exist there, not even for their authors.
 */
export const ARTICLE_STATUS = "published" satisfies PostStatus;

/** What a one-time token (mailed link) may be used for, once. */
export const ONE_TIME_TOKEN_PURPOSES = ["password_reset", "email_verification"] as const;
export type OneTimeTokenPurpose = (typeof ONE_TIME_TOKEN_PURPOSES)[number];

/** Who is calling. Anonymous callers are a value, not a missing one, so every check handles them. */
export type Actor = { kind: "anonymous" } | { kind: "user"; id: string; role: Role };
export type UserActor = Extract<Actor, { kind: "user" }>;

/** The signed-in caller's id, for reads whose answer depends on who asks (favourited, following). */
export const viewerIdOf = (actor: Actor): string | undefined => (actor.kind === "user" ? actor.id : undefined);
