import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { BASE, json } from "../helpers";
import {
  type Article,
  type ArticlePage,
  conduit,
  createArticle,
  errorsOf,
  expectIssues,
  favorite,
  follow,
  ISO_MS,
  LIST_ITEM_KEYS,
  listArticles,
  pause,
  postRow,
  profileOf,
  readArticle,
  registerConduitAdmin,
  registerConduitUser,
  setConduitRole,
  uniqueTag,
  uniqueUsername,
} from "./helpers";

function post(token: string | undefined, article: Record<string, unknown>): Promise<Response> {
  return conduit("/articles", { method: "POST", token, body: { article } });
}

function put(token: string | undefined, slug: string, article: Record<string, unknown>): Promise<Response> {
  return conduit(`/articles/${slug}`, { method: "PUT", token, body: { article } });
}

async function articleFrom(response: Response, status = 200): Promise<Article> {
  expect(response.status).toBe(status);
  const body = await json<{ article: Article }>(response);
  expect(Object.keys(body)).toEqual(["article"]);
  return body.article;
}

/** `count` articles by one author, oldest first, each a few ms apart. */
async function articlesBy(token: string, count: number, tagList?: string[]): Promise<Article[]> {
  const made: Article[] = [];
  for (let i = 0; i < count; i++) {
    made.push(await createArticle(token, { title: `Article ${i}`, ...(tagList ? { tagList } : {}) }));
    await pause();
  }
  return made;
}

const VALID = { title: "Title", description: "Description", body: "Body" };

describe("POST /api/articles", () => {
  it("201 with the whole article: published, slug from the title, author profile", async () => {
    const author = await registerConduitUser();
    const response = await post(author.token, {
      title: "How to Train Your Dragon",
      description: "Ever wonder how?",
      body: "You have to believe",
      tagList: ["dragons", "training"],
    });
    const article = await articleFrom(response, 201);
    expect(article).toEqual({
      slug: expect.stringMatching(/^how-to-train-your-dragon-[a-z0-9]+$/),
      title: "How to Train Your Dragon",
      description: "Ever wonder how?",
      body: "You have to believe",
      tagList: ["dragons", "training"],
      createdAt: expect.stringMatching(ISO_MS),
      updatedAt: expect.stringMatching(ISO_MS),
      favorited: false,
      favoritesCount: 0,
      author: profileOf(author),
    });
    expect(article.updatedAt).toBe(article.createdAt);
    expect(Math.abs(Date.parse(article.createdAt) - Date.now())).toBeLessThan(60_000);
    const row = await postRow(article.slug);
    expect(row).toMatchObject({
      status: "published",
      title: "How to Train Your Dragon",
      content: "You have to believe",
    });
    expect(row?.author_id).toBe(author.id);
  });

  it("tagList: trimmed, deduplicated, sorted; absent → []", async () => {
    const author = await registerConduitUser();
    const t = uniqueTag("sort");
    const tagged = await createArticle(author.token, { tagList: [`${t}-c`, ` ${t}-a `, `${t}-b`, `${t}-a`, `${t}-c`] });
    expect(tagged.tagList).toEqual([`${t}-a`, `${t}-b`, `${t}-c`]);
    expect((await readArticle(tagged.slug)).tagList).toEqual([`${t}-a`, `${t}-b`, `${t}-c`]);
    const untagged = await createArticle(author.token);
    expect(untagged.tagList).toEqual([]);
  });

  it("the same title twice gives two different slugs; punctuation and case are dropped", async () => {
    const author = await registerConduitUser();
    const a = await createArticle(author.token, { title: "Hello, World!  Again?" });
    const b = await createArticle(author.token, { title: "Hello, World!  Again?" });
    expect(a.slug).toMatch(/^hello-world-again-[a-z0-9]+$/);
    expect(b.slug).toMatch(/^hello-world-again-[a-z0-9]+$/);
    expect(a.slug).not.toBe(b.slug);
  });

  it("an unknown field → 422 naming it, nothing created", async () => {
    const author = await registerConduitUser();
    expect(await errorsOf(await post(author.token, { ...VALID, foo: 1 }), 422)).toEqual(["article.foo Unknown field"]);
    expect((await listArticles(`author=${author.username}`)).articlesCount).toBe(0);
  });

  it.each([
    ["missing title", { description: "d", body: "b" }, ["article.title"]],
    ["empty title", { ...VALID, title: "" }, ["article.title"]],
    ["title of 201 characters", { ...VALID, title: "t".repeat(201) }, ["article.title"]],
    ["missing description", { title: "t", body: "b" }, ["article.description"]],
    ["missing body", { title: "t", description: "d" }, ["article.body"]],
    ["empty body", { ...VALID, body: "" }, ["article.body"]],
    ["body of 100001 characters", { ...VALID, body: "b".repeat(100_001) }, ["article.body"]],
    ["tagList not an array", { ...VALID, tagList: "a,b" }, ["article.tagList"]],
    ["11 tags", { ...VALID, tagList: Array.from({ length: 11 }, (_, i) => `t${i}`) }, ["article.tagList"]],
    ["title a number", { ...VALID, title: 5 }, ["article.title"]],
  ])("%s → 422 naming %j", async (_name, article, paths) => {
    const author = await registerConduitUser();
    await expectIssues(await post(author.token, article), paths);
    expect((await listArticles(`author=${author.username}`)).articlesCount).toBe(0);
  });

  it.each([
    ["an empty tag", [""]],
    ["a blank tag", ["   "]],
    ["a tag of 41 characters", ["x".repeat(41)]],
    ["a tag that is not a string", [7]],
  ])("%s → 422 under article.tagList", async (_name, tagList) => {
    const author = await registerConduitUser();
    const messages = await errorsOf(await post(author.token, { ...VALID, tagList }), 422);
    for (const message of messages) expect(message).toMatch(/^article\.tagList(\.0)? /);
  });

  it("a body of 100000 characters fits; 10 tags fit", async () => {
    const author = await registerConduitUser();
    const t = uniqueTag("ten");
    const tagList = Array.from({ length: 10 }, (_, i) => `${t}-${i}`);
    const article = await createArticle(author.token, { body: "b".repeat(100_000), tagList });
    expect(article.body).toHaveLength(100_000);
    expect(article.tagList).toEqual([...tagList].sort());
  });

  it("no token → 401; a guest → 403; both create nothing", async () => {
    await errorsOf(await post(undefined, VALID), 401);
    const guest = await setConduitRole(await registerConduitUser(), "guest");
    await errorsOf(await post(guest.token, VALID), 403);
    expect((await listArticles(`author=${guest.username}`)).articlesCount).toBe(0);
  });

  it("with REQUIRE_VERIFIED_EMAIL, an unverified author → 403; verified → 201", async () => {
    const author = await registerConduitUser();
    const send = () =>
      app.fetch(
        new Request(`${BASE}/api/articles`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Token ${author.token}` },
          body: JSON.stringify({ article: VALID }),
        }),
        { ...env, REQUIRE_VERIFIED_EMAIL: "true" },
        createExecutionContext(),
      );
    await errorsOf(await send(), 403);
    await env.DB.prepare("update users set email_verified_at = ? where id = ?")
      .bind(new Date().toISOString(), author.id)
      .run();
    expect((await send()).status).toBe(201);
  });

  it("an empty description is a description (posts from /v1 have one too)", async () => {
    const author = await registerConduitUser();
    const response = await post(author.token, { title: "Untold", description: "", body: "b" });
    expect((await articleFrom(response, 201)).description).toBe("");
  });
});

describe("GET /api/articles/:slug", () => {
  it("anonymous: the article as created", async () => {
    const author = await registerConduitUser();
    const created = await createArticle(author.token, { title: "Read me", tagList: [uniqueTag()] });
    const response = await conduit(`/articles/${created.slug}`);
    expect(await articleFrom(response)).toEqual(created);
  });

  it("a reader who follows and favorited sees following/favorited true; others false", async () => {
    const [author, reader, other] = [
      await registerConduitUser(),
      await registerConduitUser(),
      await registerConduitUser(),
    ];
    const created = await createArticle(author.token);
    await follow(reader.token, author.username);
    await favorite(reader.token, created.slug);
    expect(await readArticle(created.slug, reader.token)).toEqual({
      ...created,
      favorited: true,
      favoritesCount: 1,
      author: profileOf(author, { following: true }),
    });
    expect(await readArticle(created.slug, other.token)).toEqual({ ...created, favoritesCount: 1 });
  });

  it("unknown slug → 404; a bad token → 401", async () => {
    await errorsOf(await conduit("/articles/no-such-article-zzz"), 404);
    const author = await registerConduitUser();
    const created = await createArticle(author.token);
    await errorsOf(await conduit(`/articles/${created.slug}`, { token: "garbage" }), 401);
  });
});

describe("PUT /api/articles/:slug", () => {
  it("the author changes title, description and body; the slug stays, updatedAt moves", async () => {
    const author = await registerConduitUser();
    const created = await createArticle(author.token, { title: "Original title", tagList: ["keep-me"] });
    await pause(10);
    const updated = await articleFrom(
      await put(author.token, created.slug, { title: "A New Title", description: "New d", body: "New b" }),
    );
    expect(updated).toEqual({
      ...created,
      title: "A New Title",
      description: "New d",
      body: "New b",
      updatedAt: expect.stringMatching(ISO_MS),
    });
    expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
    expect(await readArticle(created.slug)).toEqual(updated);
    expect((await postRow(created.slug))?.title).toBe("A New Title");
  });

  it("one field at a time leaves the others alone", async () => {
    const author = await registerConduitUser();
    const created = await createArticle(author.token, { title: "T0", description: "D0", body: "B0" });
    const updated = await articleFrom(await put(author.token, created.slug, { body: "B1" }));
    expect(updated).toMatchObject({ title: "T0", description: "D0", body: "B1", slug: created.slug });
  });

  it("tagList is replaced, deduplicated and sorted", async () => {
    const author = await registerConduitUser();
    const t = uniqueTag("put");
    const created = await createArticle(author.token, { tagList: [`${t}-old`] });
    const updated = await articleFrom(
      await put(author.token, created.slug, { tagList: [`${t}-z`, `${t}-a`, `${t}-z`] }),
    );
    expect(updated.tagList).toEqual([`${t}-a`, `${t}-z`]);
    expect((await listArticles(`tag=${t}-old`)).articlesCount).toBe(0);
    expect((await listArticles(`tag=${t}-z`)).articlesCount).toBe(1);
  });

  it("an admin may edit anyone's article", async () => {
    const author = await registerConduitUser();
    const admin = await registerConduitAdmin();
    const created = await createArticle(author.token);
    const updated = await articleFrom(await put(admin.token, created.slug, { title: "Moderated" }));
    expect(updated).toMatchObject({ title: "Moderated", author: profileOf(author) });
  });

  it("another user → 403, and nothing changes", async () => {
    const [author, other] = [await registerConduitUser(), await registerConduitUser()];
    const created = await createArticle(author.token);
    await errorsOf(await put(other.token, created.slug, { title: "Hijacked" }), 403);
    expect(await readArticle(created.slug)).toEqual(created);
  });

  it("no token → 401; unknown slug → 404", async () => {
    const author = await registerConduitUser();
    const created = await createArticle(author.token);
    await errorsOf(await put(undefined, created.slug, { title: "x" }), 401);
    await errorsOf(await put(author.token, "no-such-article-zzz", { title: "x" }), 404);
  });

  it("an unknown field or an empty title → 422", async () => {
    const author = await registerConduitUser();
    const created = await createArticle(author.token);
    expect(await errorsOf(await put(author.token, created.slug, { title: "ok", foo: "bar" }), 422)).toEqual([
      "article.foo Unknown field",
    ]);
    expect(await errorsOf(await put(author.token, created.slug, { title: "ok", slug: "my-own-slug" }), 422)).toEqual([
      "article.slug Unknown field",
    ]);
    // Alone, the unknown field may also count as "no change"; it must still be named.
    expect(await errorsOf(await put(author.token, created.slug, { foo: "bar" }), 422)).toContain(
      "article.foo Unknown field",
    );
    await expectIssues(await put(author.token, created.slug, { title: "" }), ["article.title"]);
    expect(await readArticle(created.slug)).toEqual(created);
  });
});

describe("DELETE /api/articles/:slug", () => {
  it("the author → 204 with no body, then 404 (and a second delete is 404)", async () => {
    const author = await registerConduitUser();
    const created = await createArticle(author.token);
    const response = await conduit(`/articles/${created.slug}`, { method: "DELETE", token: author.token });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    await errorsOf(await conduit(`/articles/${created.slug}`), 404);
    await errorsOf(await conduit(`/articles/${created.slug}`, { method: "DELETE", token: author.token }), 404);
  });

  it("an admin → 204, then 404", async () => {
    const author = await registerConduitUser();
    const admin = await registerConduitAdmin();
    const created = await createArticle(author.token);
    expect((await conduit(`/articles/${created.slug}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    await errorsOf(await conduit(`/articles/${created.slug}`), 404);
  });

  it("another user → 403 and the article stays; no token → 401; unknown → 404", async () => {
    const [author, other] = [await registerConduitUser(), await registerConduitUser()];
    const created = await createArticle(author.token);
    await errorsOf(await conduit(`/articles/${created.slug}`, { method: "DELETE", token: other.token }), 403);
    await errorsOf(await conduit(`/articles/${created.slug}`, { method: "DELETE" }), 401);
    await errorsOf(await conduit("/articles/no-such-article-zzz", { method: "DELETE", token: author.token }), 404);
    expect(await readArticle(created.slug)).toEqual(created);
  });
});

describe("GET /api/articles", () => {
  it("author filter: newest first, items without body, articlesCount", async () => {
    const author = await registerConduitUser();
    const made = await articlesBy(author.token, 3);
    const page = await listArticles(`author=${author.username}`);
    expect(page.articlesCount).toBe(3);
    expect(page.articles.map((a) => a.slug)).toEqual(made.map((a) => a.slug).reverse());
    for (const item of page.articles) {
      expect(Object.keys(item).sort()).toEqual(LIST_ITEM_KEYS);
      expect(item).not.toHaveProperty("body");
    }
    const { body: _body, ...expected } = made[2] as Article;
    expect(page.articles[0]).toEqual(expected);
  });

  it("tag filter, and tag combined with author", async () => {
    const [a, b] = [await registerConduitUser(), await registerConduitUser()];
    const tag = uniqueTag("filter");
    const a1 = await createArticle(a.token, { tagList: [tag] });
    await pause();
    await createArticle(a.token, { tagList: [uniqueTag()] });
    await pause();
    const b1 = await createArticle(b.token, { tagList: [tag, uniqueTag()] });
    const byTag = await listArticles(`tag=${tag}`);
    expect(byTag.articlesCount).toBe(2);
    expect(byTag.articles.map((x) => x.slug)).toEqual([b1.slug, a1.slug]);
    const both = await listArticles(`tag=${tag}&author=${a.username}`);
    expect(both).toEqual({ articles: [expect.objectContaining({ slug: a1.slug })], articlesCount: 1 });
  });

  it("favorited filter: the articles a user favorited, with counts", async () => {
    const [author, fan] = [await registerConduitUser(), await registerConduitUser()];
    const [x, y, z] = await articlesBy(author.token, 3);
    if (!x || !y || !z) throw new Error("three articles expected");
    await favorite(fan.token, x.slug);
    await favorite(fan.token, z.slug);
    const page = await listArticles(`favorited=${fan.username}`);
    expect(page.articlesCount).toBe(2);
    expect(page.articles.map((a) => [a.slug, a.favoritesCount, a.favorited])).toEqual([
      [z.slug, 1, false],
      [x.slug, 1, false],
    ]);
    const asFan = await listArticles(`favorited=${fan.username}`, fan.token);
    expect(asFan.articles.map((a) => a.favorited)).toEqual([true, true]);
  });

  it("an unknown author, tag or favorited user → 200 with [] and 0", async () => {
    for (const query of [
      `author=${uniqueUsername("nobody")}`,
      `tag=${uniqueTag("none")}`,
      `favorited=${uniqueUsername()}`,
    ]) {
      expect(await listArticles(query)).toEqual({ articles: [], articlesCount: 0 });
    }
  });

  it("offset and limit page through; articlesCount is the total", async () => {
    const author = await registerConduitUser();
    const slugs = (await articlesBy(author.token, 5)).map((a) => a.slug).reverse();
    const page = async (query: string) => {
      const result = await listArticles(`author=${author.username}&${query}`);
      expect(result.articlesCount).toBe(5);
      return result.articles.map((a) => a.slug);
    };
    expect(await page("limit=2")).toEqual(slugs.slice(0, 2));
    expect(await page("limit=2&offset=2")).toEqual(slugs.slice(2, 4));
    expect(await page("limit=2&offset=4")).toEqual(slugs.slice(4));
    expect(await page("offset=1")).toEqual(slugs.slice(1));
    expect(await page("offset=5")).toEqual([]);
    expect(await page("offset=50&limit=100")).toEqual([]);
  });

  it("limit defaults to 20", async () => {
    const author = await registerConduitUser();
    await articlesBy(author.token, 21);
    const page = await listArticles(`author=${author.username}`);
    expect(page.articlesCount).toBe(21);
    expect(page.articles).toHaveLength(20);
    expect(page.articles.map((a) => a.title)).not.toContain("Article 0");
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=-1", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["offset=-1", "offset"],
    ["offset=abc", "offset"],
    ["offset=2.5", "offset"],
  ])("%s → 422 naming %s", async (query, name) => {
    const messages = await errorsOf(await conduit(`/articles?${query}`), 422);
    expect(messages.some((message) => new RegExp(`^(query\\.)?${name} `).test(message))).toBe(true);
  });

  it("a list read by a follower shows following:true on that author only", async () => {
    const [author, other, reader] = [
      await registerConduitUser(),
      await registerConduitUser(),
      await registerConduitUser(),
    ];
    const tag = uniqueTag("mix");
    await createArticle(author.token, { tagList: [tag] });
    await createArticle(other.token, { tagList: [tag] });
    await follow(reader.token, author.username);
    const page = await listArticles(`tag=${tag}`, reader.token);
    const following = Object.fromEntries(page.articles.map((a) => [a.author.username, a.author.following]));
    expect(following).toEqual({ [author.username]: true, [other.username]: false });
  });

  it("a bad token → 401", async () => {
    await errorsOf(await conduit("/articles", { token: "garbage" }), 401);
  });
});

describe("GET /api/articles/feed", () => {
  it("articles of followed authors only, newest first, with following:true and no body", async () => {
    const [a, b, c, reader] = [
      await registerConduitUser(),
      await registerConduitUser(),
      await registerConduitUser(),
      await registerConduitUser(),
    ];
    const a1 = await createArticle(a.token);
    await pause();
    await createArticle(c.token);
    await pause();
    const b1 = await createArticle(b.token);
    await pause();
    const a2 = await createArticle(a.token);
    await follow(reader.token, a.username);
    await follow(reader.token, b.username);
    const response = await conduit("/articles/feed", { token: reader.token });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe("private, no-store");
    const feed = await json<ArticlePage>(response);
    expect(feed.articlesCount).toBe(3);
    expect(feed.articles.map((x) => x.slug)).toEqual([a2.slug, b1.slug, a1.slug]);
    for (const item of feed.articles) {
      expect(Object.keys(item).sort()).toEqual(LIST_ITEM_KEYS);
      expect(item.author.following).toBe(true);
    }
  });

  it("unfollowing removes an author's articles", async () => {
    const [a, b, reader] = [await registerConduitUser(), await registerConduitUser(), await registerConduitUser()];
    await createArticle(a.token);
    const b1 = await createArticle(b.token);
    await follow(reader.token, a.username);
    await follow(reader.token, b.username);
    await conduit(`/profiles/${a.username}/follow`, { method: "DELETE", token: reader.token });
    const feed = await json<ArticlePage>(await conduit("/articles/feed", { token: reader.token }));
    expect(feed.articlesCount).toBe(1);
    expect(feed.articles.map((x) => x.slug)).toEqual([b1.slug]);
  });

  it("following nobody → [] and 0", async () => {
    const reader = await registerConduitUser();
    const response = await conduit("/articles/feed", { token: reader.token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ articles: [], articlesCount: 0 });
  });

  it("pages with offset and limit", async () => {
    const [author, reader] = [await registerConduitUser(), await registerConduitUser()];
    const slugs = (await articlesBy(author.token, 4)).map((a) => a.slug).reverse();
    await follow(reader.token, author.username);
    const page = await json<ArticlePage>(await conduit("/articles/feed?limit=2&offset=1", { token: reader.token }));
    expect(page.articlesCount).toBe(4);
    expect(page.articles.map((a) => a.slug)).toEqual(slugs.slice(1, 3));
  });

  it("no token → 401; bad paging → 422", async () => {
    await errorsOf(await conduit("/articles/feed"), 401);
    const reader = await registerConduitUser();
    await errorsOf(await conduit("/articles/feed?limit=0", { token: reader.token }), 422);
    await errorsOf(await conduit("/articles/feed?offset=-3", { token: reader.token }), 422);
  });
});
