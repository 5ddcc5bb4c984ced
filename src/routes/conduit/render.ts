import type * as z from "zod/mini";
import type { ArticleRow } from "../../db/articles";
import type { CommentRow } from "../../db/comments";
import type { ProfileRow } from "../../db/profiles";
import type { UserRow } from "../../db/schema";
import type {
  articleListItemSchema,
  articleSchema,
  commentSchema,
  conduitUserSchema,
  profileSchema,
} from "../../schemas/conduit";

/**
 * The RealWorld shapes, built from rows explicitly (a row never reaches a response, so a password
 * hash cannot either). A `/v1` user who never chose a username shows their id as one: the queries
 * compute that as `handleOf` (db/articles.ts); `toConduitUser` gets a whole row and does the same.
 */

type ProfileJson = z.infer<typeof profileSchema>;

export function toConduitUser(user: UserRow, token: string): z.infer<typeof conduitUserSchema> {
  return { email: user.email, token, username: user.username ?? user.id, bio: user.bio, image: user.image };
}

export function toProfile(row: ProfileRow): ProfileJson {
  return { username: row.handle, bio: row.bio, image: row.image, following: Boolean(row.following) };
}

function authorOf(row: {
  authorHandle: string;
  authorBio: string | null;
  authorImage: string | null;
  following: number;
}): ProfileJson {
  return { username: row.authorHandle, bio: row.authorBio, image: row.authorImage, following: Boolean(row.following) };
}

export function toArticleListItem(row: ArticleRow): z.infer<typeof articleListItemSchema> {
  return {
    slug: row.slug,
    title: row.title,
    description: row.description,
    tagList: (JSON.parse(row.tagList) as string[]).sort(),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    favorited: Boolean(row.favorited),
    favoritesCount: row.favoritesCount,
    author: authorOf(row),
  };
}

export function toArticle(row: ArticleRow): z.infer<typeof articleSchema> {
  const { slug, title, description, ...rest } = toArticleListItem(row);
  return { slug, title, description, body: row.body ?? "", ...rest };
}

export function toComment(row: CommentRow): z.infer<typeof commentSchema> {
  return { id: row.id, createdAt: row.createdAt, updatedAt: row.updatedAt, body: row.body, author: authorOf(row) };
}
