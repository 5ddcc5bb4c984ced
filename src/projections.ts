import type * as z from "zod/mini";
import type { PostWithAuthor } from "./db/posts";
import type { UserRow } from "./db/schema";
import type { postSchema } from "./schemas/posts";
import type { publicProfileSchema, userSchema } from "./schemas/users";

/** Explicit projections: a row never reaches a response, so a password hash cannot either. */
export type UserJson = z.infer<typeof userSchema>;
export type PublicProfileJson = z.infer<typeof publicProfileSchema>;
export type PostJson = z.infer<typeof postSchema>;

export function toUserJson(user: UserRow): UserJson {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    is_active: user.isActive,
    email_verified: user.emailVerifiedAt !== null,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
  };
}

export function toPublicProfile(user: Pick<UserRow, "id" | "name">): PublicProfileJson {
  return { id: user.id, name: user.name };
}

export function toPostJson({ post, authorName }: PostWithAuthor): PostJson {
  return {
    id: post.id,
    title: post.title,
    content: post.content,
    status: post.status,
    author: { id: post.authorId, name: authorName },
    created_at: post.createdAt,
    updated_at: post.updatedAt,
    published_at: post.publishedAt,
    version: post.version,
  };
}
