import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { setCacheHeaders } from "../../cache/http";
import { dependencies } from "../../cache/invalidation";
import { cacheKeys } from "../../cache/keys";
import { boundedQueryKey, normaliseQuery, readFresh, serveItem, serveList } from "../../cache/read-through";
import { articleDependencies } from "../../cache/remembered";
import {
  changeArticle,
  favoriteArticle,
  feedOf,
  findArticle,
  listPublishedArticles,
  removeArticle,
  unfavoriteArticle,
  writeArticle,
} from "../../domain/articles";
import { addComment, commentsOn, removeComment } from "../../domain/comments";
import { searchPublishedArticles } from "../../domain/search";
import { requireUser } from "../../middleware/auth";
import { jsonBody, POST_BODY_MAX_BYTES } from "../../middleware/json-body";
import { userWriteLimit } from "../../middleware/rate-limit";
import { validate } from "../../middleware/validate";
import { describeRoute } from "../../openapi/annotations";
import { PUBLIC_READ_HEADERS } from "../../openapi/responses";
import {
  articleResponseSchema,
  articlesResponseSchema,
  commentParamSchema,
  commentResponseSchema,
  commentsResponseSchema,
  feedQuerySchema,
  listArticlesQuerySchema,
  newArticleSchema,
  newCommentSchema,
  slugParamSchema,
  updateArticleSchema,
} from "../../schemas/conduit";
import { toArticle, toArticleListItem, toComment } from "./render";

const ARTICLE_RESPONSE = { status: 200, description: "The article", schema: articleResponseSchema } as const;
const ARTICLES_RESPONSE = {
  status: 200,
  description: "A page of articles, newest first, and how many there are in all",
  schema: articlesResponseSchema,
} as const;

/** Articles, their favourites and their comments. */
export const conduitArticleRoutes = new Hono<AppEnv>()
  .get(
    "/",
    describeRoute({
      summary: "List articles",
      description:
        "Published articles, newest first; `tag`, `author` and `favorited` (usernames) narrow the list. Anonymous pages come from the edge cache. Extension: `search` is the full-text search of /v1/posts/search.",
      tag: "conduit",
      auth: "optional",
      success: { ...ARTICLES_RESPONSE, headers: PUBLIC_READ_HEADERS },
      errors: [422],
      conditionalGet: true,
    }),
    validate("query", listArticlesQuerySchema),
    async (c) => {
      const query = c.req.valid("query");
      const { tag, author, favorited, search, limit, offset } = query;
      // The key names the filters exactly as validated (no folding the SQL would not do).
      const key = await boundedQueryKey(normaliseQuery("api/articles", query));
      return serveList(c, key, dependencies.globalList(), async () => {
        const filter = { tag, author, favoritedBy: favorited };
        const { rows, total } =
          search === undefined
            ? await listPublishedArticles(c.var.domain, c.var.actor, filter, { limit, offset })
            : await searchPublishedArticles(c.var.domain, c.var.actor, search, filter, { limit, offset });
        return { articles: rows.map(toArticleListItem), articlesCount: total };
      });
    },
  )
  .get(
    "/feed",
    describeRoute({
      summary: "Feed",
      description: "Articles by the users the caller follows, newest first.",
      tag: "conduit",
      auth: "required",
      success: ARTICLES_RESPONSE,
      errors: [422],
    }),
    requireUser,
    validate("query", feedQuerySchema),
    async (c) => {
      const { user, cache, domain } = c.var;
      await cache.raiseFloorFor(dependencies.feed(user.id));
      const { rows, total } = await feedOf(domain, user, c.req.valid("query"));
      setCacheHeaders(c, "BYPASS", false);
      return c.json({ articles: rows.map(toArticleListItem), articlesCount: total });
    },
  )
  .get(
    "/:slug",
    describeRoute({
      summary: "Get an article",
      tag: "conduit",
      auth: "optional",
      success: { ...ARTICLE_RESPONSE, headers: PUBLIC_READ_HEADERS },
      errors: [404],
      conditionalGet: true,
    }),
    validate("param", slugParamSchema),
    async (c) => {
      const { slug } = c.req.valid("param");
      return serveItem(c, {
        key: cacheKeys.article(slug),
        known: [],
        load: () => findArticle(c.var.domain, c.var.actor, slug),
        dependsOn: (article) => dependencies.article(article.id, article.authorId),
        render: (article) => ({ article: toArticle(article) }),
        // `favorited` and `following` depend on the viewer.
        sharedWith: "anonymous",
        remembered: articleDependencies,
      });
    },
  )
  .post(
    "/",
    describeRoute({
      summary: "Create an article",
      description: "Users and admins; published at once. Guests: 403.",
      tag: "conduit",
      auth: "required",
      success: { ...ARTICLE_RESPONSE, status: 201, description: "Created" },
      errors: [403, 422, 429],
    }),
    requireUser,
    userWriteLimit,
    jsonBody(POST_BODY_MAX_BYTES),
    validate("json", newArticleSchema),
    async (c) => {
      const article = await writeArticle(c.var.domain, c.var.user, c.req.valid("json").article);
      return c.json({ article: toArticle(article) }, 201);
    },
  )
  .put(
    "/:slug",
    describeRoute({
      summary: "Update an article",
      description: "Its author or an admin. The slug stays the same when the title changes.",
      tag: "conduit",
      auth: "required",
      success: ARTICLE_RESPONSE,
      errors: [403, 404, 422, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", slugParamSchema),
    jsonBody(POST_BODY_MAX_BYTES),
    validate("json", updateArticleSchema),
    async (c) => {
      const { slug } = c.req.valid("param");
      const article = await changeArticle(c.var.domain, c.var.user, slug, c.req.valid("json").article);
      return c.json({ article: toArticle(article) });
    },
  )
  .delete(
    "/:slug",
    describeRoute({
      summary: "Delete an article",
      description: "An admin deletes it; its author archives it (gone from every `/api` view). Anyone else: 403.",
      tag: "conduit",
      auth: "required",
      success: { status: 204, description: "Deleted or archived" },
      errors: [403, 404, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", slugParamSchema),
    async (c) => {
      await removeArticle(c.var.domain, c.var.user, c.req.valid("param").slug);
      return c.body(null, 204);
    },
  )
  .post(
    "/:slug/favorite",
    describeRoute({
      summary: "Favorite an article",
      description: "Idempotent.",
      tag: "conduit",
      auth: "required",
      success: ARTICLE_RESPONSE,
      errors: [404, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", slugParamSchema),
    async (c) => {
      const article = await favoriteArticle(c.var.domain, c.var.user, c.req.valid("param").slug);
      return c.json({ article: toArticle(article) });
    },
  )
  .delete(
    "/:slug/favorite",
    describeRoute({
      summary: "Unfavorite an article",
      description: "Idempotent.",
      tag: "conduit",
      auth: "required",
      success: ARTICLE_RESPONSE,
      errors: [404, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", slugParamSchema),
    async (c) => {
      const article = await unfavoriteArticle(c.var.domain, c.var.user, c.req.valid("param").slug);
      return c.json({ article: toArticle(article) });
    },
  )
  .get(
    "/:slug/comments",
    describeRoute({
      summary: "Comments of an article",
      description: "Oldest first. Not cached: each embeds its author's profile as the caller sees it.",
      tag: "conduit",
      auth: "optional",
      success: { status: 200, description: "The comments", schema: commentsResponseSchema },
      errors: [404],
    }),
    validate("param", slugParamSchema),
    async (c) => {
      const { slug } = c.req.valid("param");
      const { domain, actor } = c.var;
      const found = await readFresh(
        c,
        () => commentsOn(domain, actor, slug),
        ({ article }) => dependencies.article(article.id, article.authorId),
      );
      setCacheHeaders(c, "BYPASS", false);
      return c.json({ comments: found.comments.map(toComment) });
    },
  )
  .post(
    "/:slug/comments",
    describeRoute({
      summary: "Comment on an article",
      description: "Users and admins. Guests: 403. Answers 200, as the RealWorld spec says.",
      tag: "conduit",
      auth: "required",
      success: { status: 200, description: "The comment", schema: commentResponseSchema },
      errors: [403, 404, 422, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", slugParamSchema),
    jsonBody(),
    validate("json", newCommentSchema),
    async (c) => {
      const { slug } = c.req.valid("param");
      const comment = await addComment(c.var.domain, c.var.user, slug, c.req.valid("json").comment.body);
      return c.json({ comment: toComment(comment) });
    },
  )
  .delete(
    "/:slug/comments/:id",
    describeRoute({
      summary: "Delete a comment",
      description: "Its author or an admin.",
      tag: "conduit",
      auth: "required",
      success: { status: 204, description: "Deleted" },
      errors: [403, 404, 422, 429],
    }),
    requireUser,
    userWriteLimit,
    validate("param", commentParamSchema),
    async (c) => {
      const { slug, id } = c.req.valid("param");
      await removeComment(c.var.domain, c.var.user, slug, id);
      return c.body(null, 204);
    },
  );
