import { and, asc, desc, eq, inArray, notInArray, type SQL, sql } from "drizzle-orm";
import { ARTICLE_STATUS } from "../domain/vocabulary";
import type { Db } from "./client";
import { favorites, follows, posts, postTags, tags, users } from "./schema";

/**
 * Queries of the RealWorld surface. An article is a post seen with its author's profile, its
 * tags, its favourite count and, for a signed-in viewer, whether they favourited it and follow its
 * author: all of it from one statement per page (correlated subqueries, no query per row).
 */

/** A user's public handle: the chosen username, or the id of a `/v1` user who has none. */
export const handleOf = sql<string>`coalesce(${users.username}, ${users.id})`;

/** The id of the user a handle names (case-insensitive), as a scalar subquery; null if none. */
export function userIdByHandle(handle: string): SQL<string | null> {
  return sql`coalesce(
    (select ${users.id} from ${users} where lower(${users.username}) = lower(${handle})),
    (select ${users.id} from ${users} where ${users.id} = ${handle} and ${users.username} is null)
  )`;
}

/** A post's tags as JSON text, unordered: the projection sorts them (a handful, in memory). */
const tagListOf = sql<string>`(select json_group_array(${tags.name}) from ${postTags}
  inner join ${tags} on ${tags.id} = ${postTags.tagId} where ${postTags.postId} = ${posts.id})`;

const favoritesCountOf = sql<number>`(select count(*) from ${favorites} where ${favorites.postId} = ${posts.id})`;

function favoritedBy(viewerId: string | undefined): SQL<number> {
  if (viewerId === undefined) return sql<number>`0`;
  return sql<number>`exists (select 1 from ${favorites} where ${favorites.userId} = ${viewerId} and ${favorites.postId} = ${posts.id})`;
}

export function isFollowing(viewerId: string | undefined, userId: SQL | typeof users.id): SQL<number> {
  if (viewerId === undefined) return sql<number>`0`;
  return sql<number>`exists (select 1 from ${follows} where ${follows.followerId} = ${viewerId} and ${follows.followeeId} = ${userId})`;
}

/**
 * Computed columns carry aliases: D1 hands batch rows back as objects keyed by column name, so an
 * unnamed `0` (an integer-like key, which objects list first) or two equal names would shift or
 * merge columns.
 */
/** The author (joined as `users`) as the viewer sees them: what articles and comments embed. */
export function authorProfileColumns(viewerId: string | undefined) {
  return {
    authorHandle: handleOf.as("author_handle"),
    authorBio: users.bio,
    authorImage: users.image,
    following: isFollowing(viewerId, users.id).as("following"),
  };
}

export function articleColumns(viewerId: string | undefined) {
  return {
    id: posts.id,
    slug: posts.slug,
    title: posts.title,
    description: posts.description,
    status: posts.status,
    authorId: posts.authorId,
    createdAt: posts.createdAt,
    updatedAt: posts.updatedAt,
    tagList: tagListOf.as("tag_list"),
    favoritesCount: favoritesCountOf.as("favorites_count"),
    favorited: favoritedBy(viewerId).as("favorited"),
    ...authorProfileColumns(viewerId),
  };
}

export const findArticleBySlugQuery = (db: Db, slug: string, viewerId: string | undefined) =>
  db
    .select({ ...articleColumns(viewerId), body: posts.content })
    .from(posts)
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(eq(posts.slug, slug))
    .limit(1);

export async function findArticleBySlug(db: Db, slug: string, viewerId: string | undefined) {
  return (await findArticleBySlugQuery(db, slug, viewerId))[0];
}

/** What a list of articles may be narrowed to. All filters combine (AND). */
export type ArticleFilter = {
  tag?: string | undefined;
  /** Handle of the author. */
  author?: string | undefined;
  /** Handle of a user who favourited the articles. */
  favoritedBy?: string | undefined;
  /** Only authors this user follows (the feed). */
  followedBy?: string | undefined;
};

/** Only published posts exist on the RealWorld surface. */
export function listCondition(filter: ArticleFilter): SQL | undefined {
  return and(
    eq(posts.status, ARTICLE_STATUS),
    filter.author === undefined ? undefined : eq(posts.authorId, userIdByHandle(filter.author)),
    filter.tag === undefined
      ? undefined
      : inArray(
          posts.id,
          sql`(select ${postTags.postId} from ${postTags} inner join ${tags} on ${tags.id} = ${postTags.tagId} where ${tags.name} = ${filter.tag})`,
        ),
    filter.favoritedBy === undefined
      ? undefined
      : inArray(
          posts.id,
          sql`(select ${favorites.postId} from ${favorites} where ${favorites.userId} = ${userIdByHandle(filter.favoritedBy)})`,
        ),
    filter.followedBy === undefined
      ? undefined
      : inArray(
          posts.authorId,
          sql`(select ${follows.followeeId} from ${follows} where ${follows.followerId} = ${filter.followedBy})`,
        ),
  );
}

export const listArticlesQuery = (
  db: Db,
  filter: ArticleFilter,
  page: { offset: number; limit: number },
  viewerId: string | undefined,
) =>
  db
    .select(articleColumns(viewerId))
    .from(posts)
    .innerJoin(users, eq(users.id, posts.authorId))
    .where(listCondition(filter))
    .orderBy(desc(posts.createdAt), desc(posts.id))
    .limit(page.limit)
    .offset(page.offset);

export const countArticlesQuery = (db: Db, filter: ArticleFilter) =>
  db.select({ count: sql<number>`count(*)` }).from(posts).where(listCondition(filter));

/** One article row as the queries return it (`tagList` still JSON text, flags still 0/1). */
export type ArticleRow = Awaited<ReturnType<typeof listArticlesQuery>>[number] & { body?: string };

/** A page and the total it is part of, in one batch (one round trip, one snapshot). */
export async function listArticles(
  db: Db,
  filter: ArticleFilter,
  page: { offset: number; limit: number },
  viewerId: string | undefined,
): Promise<{ rows: ArticleRow[]; total: number }> {
  const [rows, count] = await db.batch([listArticlesQuery(db, filter, page, viewerId), countArticlesQuery(db, filter)]);
  return { rows, total: count[0]?.count ?? 0 };
}

/** Most used tags of published posts first, then by name. */
export const popularTagsQuery = (db: Db, max: number) =>
  db
    .select({ name: tags.name })
    .from(tags)
    .innerJoin(postTags, eq(postTags.tagId, tags.id))
    .innerJoin(posts, and(eq(posts.id, postTags.postId), eq(posts.status, ARTICLE_STATUS)))
    .groupBy(tags.id)
    .orderBy(desc(sql`count(*)`), asc(tags.name))
    .limit(max);

/**
 * Tags stay exactly those some post uses: the statements that take tags away from posts delete,
 * in the same batch, each of those tags no other post has (the tag's `post_tags` rows go with it
 * by cascade, and they are only the posts' own). Archived posts keep their tags.
 */
const usedByAnotherPost = (excluded: SQL) =>
  sql`exists (select 1 from ${postTags} as other join ${posts} as other_post on other_post.id = other.post_id where other.tag_id = ${tags.id} and not (${excluded}))`;

/** Before a post's tags are replaced or the post deleted: its tags no other post uses, but `keep`. */
export function pruneTagsOfPostQuery(db: Db, postId: string, keep: readonly string[] = []) {
  return db
    .delete(tags)
    .where(
      and(
        inArray(tags.id, db.select({ id: postTags.tagId }).from(postTags).where(eq(postTags.postId, postId))),
        keep.length > 0 ? notInArray(tags.name, [...keep]) : undefined,
        sql`not ${usedByAnotherPost(sql`other.post_id = ${postId}`)}`,
      ),
    );
}

/**
 * Before an author's account (and so every post of theirs) is deleted: their tags nobody else
 * uses. `onlyIf` is the deletion's own guard, so the tags go only if the account does.
 */
export function pruneTagsOfAuthorQuery(db: Db, authorId: string, onlyIf: SQL) {
  const theirs = db
    .select({ id: postTags.tagId })
    .from(postTags)
    .innerJoin(posts, eq(posts.id, postTags.postId))
    .where(eq(posts.authorId, authorId));
  return db
    .delete(tags)
    .where(
      and(
        inArray(tags.id, theirs),
        sql`not ${usedByAnotherPost(sql`other_post.author_id = ${authorId}`)}`,
        sql`exists (select 1 from ${users} where ${users.id} = ${authorId} and ${onlyIf})`,
      ),
    );
}

/**
 * Statements that give a post exactly these tags, for the same batch as the post's write. They
 * touch nothing when the post does not exist (an update that found no row).
 */
export function setTagsStatements(db: Db, postId: string, names: readonly string[], replace: boolean) {
  const clear = replace
    ? [pruneTagsOfPostQuery(db, postId, names), db.delete(postTags).where(eq(postTags.postId, postId))]
    : [];
  if (names.length === 0) return clear;
  return [
    ...clear,
    db
      .insert(tags)
      .values(names.map((name) => ({ name })))
      .onConflictDoNothing(),
    db.insert(postTags).select(
      db
        .select({ postId: sql<string>`${postId}`.as("post_id"), tagId: tags.id })
        .from(tags)
        .where(and(inArray(tags.name, [...names]), sql`exists (select 1 from ${posts} where ${posts.id} = ${postId})`)),
    ),
  ];
}

export async function addFavorite(db: Db, userId: string, postId: string, now: string): Promise<void> {
  await db.insert(favorites).values({ userId, postId, createdAt: now }).onConflictDoNothing();
}

export async function removeFavorite(db: Db, userId: string, postId: string): Promise<void> {
  await db.delete(favorites).where(and(eq(favorites.userId, userId), eq(favorites.postId, postId)));
}

/** Up to `max` posts a user has favourited (any of them: a range of the primary key). */
export const favoritedPostIdsQuery = (db: Db, userId: string, max: number) =>
  db.select({ postId: favorites.postId }).from(favorites).where(eq(favorites.userId, userId)).limit(max);
