import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createAdmin, createPost, createUser, expectError, json, withRole } from "../helpers";
import {
  type Article,
  type ArticlePage,
  addComment,
  conduit,
  createArticle,
  errorsOf,
  favorite,
  follow,
  listArticles,
  postRow,
  readArticle,
  registerConduitAdmin,
  registerConduitUser,
  setConduitRole,
  uniqueTag,
} from "./helpers";

/** API.md §9: how /api maps onto the one domain (roles, statuses, tokens) that /v1 also serves. */

type V1Post = { id: string; title: string; content: string; status: string; author: { id: string; name: string } };

async function postCountOf(userId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from posts where author_id = ?")
    .bind(userId)
    .first<{ n: number }>();
  return row?.n ?? Number.NaN;
}

async function slugOf(postId: string): Promise<string> {
  const row = await env.DB.prepare("select slug from posts where id = ?").bind(postId).first<{ slug: string }>();
  expect(row?.slug).toEqual(expect.any(String));
  return row?.slug ?? "";
}

async function feedOf(token: string): Promise<ArticlePage> {
  const response = await conduit("/articles/feed", { token });
  expect(response.status).toBe(200);
  return json<ArticlePage>(response);
}

/** Every /api view of one article answers as if it did not exist. */
async function expectGoneFromApi(article: { slug: string }, viewers: { token: string; username: string }[]) {
  await errorsOf(await conduit(`/articles/${article.slug}`), 404);
  await errorsOf(await conduit(`/articles/${article.slug}/comments`), 404);
  for (const viewer of viewers) {
    await errorsOf(await conduit(`/articles/${article.slug}`, { token: viewer.token }), 404);
    await errorsOf(await conduit(`/articles/${article.slug}/favorite`, { method: "POST", token: viewer.token }), 404);
    const global = await listArticles("limit=100", viewer.token);
    expect(global.articles.map((a) => a.slug)).not.toContain(article.slug);
    expect((await feedOf(viewer.token)).articles.map((a) => a.slug)).not.toContain(article.slug);
  }
}

describe("roles: a guest cannot post an article or a comment", () => {
  it("a guest made through /v1 (withRole) → 403 on both; follows and favorites still work", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    const guest = await withRole(await createUser(), "guest");
    const token = guest.access_token;
    await errorsOf(
      await conduit("/articles", {
        method: "POST",
        token,
        body: { article: { title: "t", description: "d", body: "b" } },
      }),
      403,
    );
    await errorsOf(
      await conduit(`/articles/${article.slug}/comments`, { method: "POST", token, body: { comment: { body: "hi" } } }),
      403,
    );
    expect(await postCountOf(guest.id)).toBe(0);
    expect((await json<{ comments: unknown[] }>(await conduit(`/articles/${article.slug}/comments`))).comments).toEqual(
      [],
    );
    expect((await conduit(`/articles/${article.slug}/favorite`, { method: "POST", token })).status).toBe(200);
    expect((await conduit(`/profiles/${author.username}/follow`, { method: "POST", token })).status).toBe(200);
  });

  it("a guest set in D1 and logged in through /api → 403 on both", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    const guest = await setConduitRole(await registerConduitUser(), "guest");
    await errorsOf(
      await conduit("/articles", {
        method: "POST",
        token: guest.token,
        body: { article: { title: "t", description: "d", body: "b" } },
      }),
      403,
    );
    await errorsOf(
      await conduit(`/articles/${article.slug}/comments`, {
        method: "POST",
        token: guest.token,
        body: { comment: { body: "hi" } },
      }),
      403,
    );
    expect(await postCountOf(guest.id)).toBe(0);
  });

  it("a guest cannot edit or delete the articles it wrote while it was a user", async () => {
    const writer = await registerConduitUser();
    const article = await createArticle(writer.token);
    const guest = await setConduitRole(writer, "guest");
    await errorsOf(
      await conduit(`/articles/${article.slug}`, {
        method: "PUT",
        token: guest.token,
        body: { article: { title: "changed" } },
      }),
      403,
    );
    await errorsOf(await conduit(`/articles/${article.slug}`, { method: "DELETE", token: guest.token }), 403);
    expect(await readArticle(article.slug)).toEqual(article);
  });
});

describe("DELETE through /api: the author archives, an admin deletes", () => {
  it("the author's DELETE archives: row kept as 'archived', 404 everywhere in /api, archived in the author's /v1", async () => {
    const [author, fan] = [await registerConduitUser(), await registerConduitUser()];
    const article = await createArticle(author.token, { title: "To be archived", tagList: [uniqueTag("arch")] });
    await addComment(fan.token, article.slug, "a comment");
    await favorite(fan.token, article.slug);
    await follow(fan.token, author.username);
    const before = await postRow(article.slug);
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);

    const row = await postRow(article.slug);
    expect(row).toEqual({ ...before, status: "archived" });
    await expectGoneFromApi(article, [author, fan]);
    expect(await listArticles(`author=${author.username}`)).toEqual({ articles: [], articlesCount: 0 });
    expect(await listArticles(`favorited=${fan.username}`)).toEqual({ articles: [], articlesCount: 0 });
    expect(await listArticles(`tag=${article.tagList[0]}`)).toEqual({ articles: [], articlesCount: 0 });

    const own = await api(`/v1/posts/${row?.id}`, { token: author.token });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ id: row?.id, title: "To be archived", status: "archived" });
    await expectError(await api(`/v1/posts/${row?.id}`), 404, "NotFoundError");
    await expectError(await api(`/v1/posts/${row?.id}`, { token: fan.token }), 404, "NotFoundError");
  });

  it("an admin's DELETE removes the row", async () => {
    const author = await registerConduitUser();
    const admin = await registerConduitAdmin();
    const article = await createArticle(author.token);
    const id = (await postRow(article.slug))?.id;
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect(await postRow(article.slug)).toBeNull();
    expect(await postCountOf(author.id)).toBe(0);
    await expectError(await api(`/v1/posts/${id}`, { token: author.token }), 404, "NotFoundError");
    await errorsOf(await conduit(`/articles/${article.slug}`), 404);
  });

  it("an admin deleting an article its author already archived removes the row", async () => {
    const author = await registerConduitUser();
    const admin = await registerConduitAdmin();
    const article = await createArticle(author.token);
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    const id = (await postRow(article.slug))?.id ?? "";
    expect((await api(`/v1/posts/${id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    expect(await postRow(article.slug)).toBeNull();
  });
});

describe("drafts never show in /api", () => {
  it("a draft created through /v1: not in lists, feed, tags, single read, comments or favorite", async () => {
    const author = await registerConduitUser();
    const follower = await registerConduitUser();
    await follow(follower.token, author.username);
    const draft = await createPost(author.token, { title: "Secret draft", status: "draft" });
    const slug = await slugOf(draft.id);
    await expectGoneFromApi({ slug }, [author, follower]);
    expect(await listArticles(`author=${author.username}`)).toEqual({ articles: [], articlesCount: 0 });
    expect(await listArticles(`author=${author.username}`, author.token)).toEqual({ articles: [], articlesCount: 0 });
    await errorsOf(
      await conduit(`/articles/${slug}`, { method: "PUT", token: author.token, body: { article: { title: "x" } } }),
      404,
    );
    await errorsOf(
      await conduit(`/articles/${slug}/comments`, {
        method: "POST",
        token: follower.token,
        body: { comment: { body: "x" } },
      }),
      404,
    );
  });

  it("an /api article unpublished through /v1 leaves /api (tags too), and comes back when published", async () => {
    const author = await registerConduitUser();
    const follower = await registerConduitUser();
    await follow(follower.token, author.username);
    const tag = uniqueTag("unpub");
    const article = await createArticle(author.token, { tagList: [tag] });
    const id = (await postRow(article.slug))?.id ?? "";
    const tagsNow = async () => (await json<{ tags: string[] }>(await conduit("/tags"))).tags;
    expect(await tagsNow()).toContain(tag);

    const unpublish = await api(`/v1/posts/${id}`, { method: "PATCH", token: author.token, body: { status: "draft" } });
    expect(unpublish.status).toBe(200);
    await expectGoneFromApi(article, [author, follower]);
    expect(await tagsNow()).not.toContain(tag);
    expect(await listArticles(`tag=${tag}`)).toEqual({ articles: [], articlesCount: 0 });

    const publish = await api(`/v1/posts/${id}`, {
      method: "PATCH",
      token: author.token,
      body: { status: "published" },
    });
    expect(publish.status).toBe(200);
    const back = await readArticle(article.slug);
    expect(back).toMatchObject({ slug: article.slug, title: article.title, tagList: [tag], body: article.body });
    expect(await tagsNow()).toContain(tag);
  });
});

describe("one domain under both surfaces", () => {
  it("a post published through /v1 is an /api article: body = content, username = id without a handle", async () => {
    const v1 = await createUser({ name: "Plain V1" });
    const post = await createPost(v1.access_token, {
      title: "From V1 Land",
      content: "V1 content",
      status: "published",
    });
    const slug = await slugOf(post.id);
    expect(slug).toMatch(/^from-v1-land-[a-z0-9]+$/);
    const article = await readArticle(slug);
    expect(article).toMatchObject({
      slug,
      title: "From V1 Land",
      body: "V1 content",
      tagList: [],
      favorited: false,
      favoritesCount: 0,
      author: { username: v1.id, bio: null, image: null, following: false },
    });
    expect(article.createdAt).toBe(post.created_at);
    const page = await listArticles(`author=${v1.id}`);
    expect(page.articles.map((a) => a.slug)).toEqual([slug]);
  });

  it("an /api article is a published /v1 post whose content is the body and author name the username", async () => {
    const author = await registerConduitUser();
    const article: Article = await createArticle(author.token, { title: "Both ways", body: "Shared body" });
    const id = (await postRow(article.slug))?.id ?? "";
    const response = await api(`/v1/posts/${id}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id,
      title: "Both ways",
      content: "Shared body",
      status: "published",
      author: { id: author.id, name: author.username },
    } satisfies Partial<V1Post>);
  });
});

describe("tokens: revocation and deactivation apply on /api", () => {
  it("a /v1 password change makes the old token 401 on /api (auth-required and optional-auth routes)", async () => {
    const user = await registerConduitUser();
    const changed = await api("/v1/users/me", {
      method: "PATCH",
      token: user.token,
      body: { password: "another long password", current_password: user.password },
    });
    expect(changed.status).toBe(200);
    await errorsOf(await conduit("/user", { token: user.token }), 401);
    await errorsOf(await conduit("/articles", { token: user.token }), 401);
    await errorsOf(await conduit("/tags", { token: user.token }), 401);
    await errorsOf(
      await conduit("/articles", {
        method: "POST",
        token: user.token,
        body: { article: { title: "t", description: "d", body: "b" } },
      }),
      401,
    );
    expect(await postCountOf(user.id)).toBe(0);
  });

  it("a deactivated user's token is 401 on /api, and it cannot log in again", async () => {
    const user = await registerConduitUser();
    const article = await createArticle(user.token);
    const admin = await createAdmin();
    const patched = await api(`/v1/users/${user.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { is_active: false },
    });
    expect(patched.status).toBe(200);
    await errorsOf(await conduit("/user", { token: user.token }), 401);
    await errorsOf(await conduit(`/articles/${article.slug}`, { token: user.token }), 401);
    await errorsOf(await conduit(`/profiles/${user.username}`, { token: user.token }), 401);
    await errorsOf(await conduit(`/articles/${article.slug}`, { method: "DELETE", token: user.token }), 401);
    await errorsOf(
      await conduit("/users/login", { method: "POST", body: { user: { email: user.email, password: user.password } } }),
      401,
    );
    expect((await postRow(article.slug))?.status).toBe("published");
  });

  it("a role change by an admin revokes the old token; the new one carries the role", async () => {
    const user = await registerConduitUser();
    const admin = await createAdmin();
    const patched = await api(`/v1/users/${user.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { role: "guest" },
    });
    expect(patched.status).toBe(200);
    await errorsOf(await conduit("/user", { token: user.token }), 401);
    const login = await conduit("/users/login", {
      method: "POST",
      body: { user: { email: user.email, password: user.password } },
    });
    const { token } = (await json<{ user: { token: string } }>(login)).user;
    await errorsOf(
      await conduit("/articles", {
        method: "POST",
        token,
        body: { article: { title: "t", description: "d", body: "b" } },
      }),
      403,
    );
  });

  it("a deleted account: token 401, profile and articles 404", async () => {
    const user = await registerConduitUser();
    const article = await createArticle(user.token);
    expect((await api("/v1/users/me", { method: "DELETE", token: user.token })).status).toBe(204);
    await errorsOf(await conduit("/user", { token: user.token }), 401);
    await errorsOf(await conduit(`/profiles/${user.username}`), 404);
    await errorsOf(await conduit(`/articles/${article.slug}`), 404);
  });

  it("an account deleted elsewhere (its token not yet revoked here): favourite, comment and follow are 401, not 500", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    const gone = await registerConduitUser();
    // As if deleted at another location: the row is gone, this location has no revocation marker yet.
    await env.DB.prepare("delete from users where username = ?").bind(gone.username).run();
    const writes = [
      conduit(`/articles/${article.slug}/favorite`, { method: "POST", token: gone.token }),
      conduit(`/articles/${article.slug}/comments`, {
        method: "POST",
        token: gone.token,
        body: { comment: { body: "x" } },
      }),
      conduit(`/profiles/${author.username}/follow`, { method: "POST", token: gone.token }),
    ];
    for (const response of await Promise.all(writes)) {
      expect(await errorsOf(response, 401)).toEqual(["Account no longer exists"]);
    }
  });
});
