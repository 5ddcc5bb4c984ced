import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { api, BASE, countingKV, json } from "../helpers";
import {
  type Article,
  type ArticlePage,
  addComment,
  conduit,
  conduitSettled,
  createArticle,
  errorsOf,
  favorite,
  follow,
  type Profile,
  profileOf,
  registerConduitAdmin,
  registerConduitUser,
  uniqueTag,
} from "./helpers";

/**
 * The KV read cache under /api (conduit-decisions.md "Caching"). Reads go through
 * `conduitSettled`, which waits for the cache fill; writes go through `conduit` and must be
 * visible to the very next read here (the writing location).
 */

const PUBLIC = "public, max-age=30";
const PRIVATE = "private, no-store";

/** Two anonymous reads: MISS then HIT, same body, public headers. Returns the body. */
async function warm<T>(path: string): Promise<T> {
  const first = await conduitSettled(path);
  expect(first.status, path).toBe(200);
  expect(first.headers.get("X-Cache"), `first read of ${path}`).toBe("MISS");
  expect(first.headers.get("Cache-Control")).toBe(PUBLIC);
  const second = await conduitSettled(path);
  expect(second.status).toBe(200);
  expect(second.headers.get("X-Cache"), `second read of ${path}`).toBe("HIT");
  expect(second.headers.get("Cache-Control")).toBe(PUBLIC);
  const body = await json<T>(second);
  expect(body).toEqual(await first.json());
  return body;
}

/** An anonymous read served from the cache. */
async function expectHit(path: string): Promise<void> {
  const response = await conduitSettled(path);
  expect(response.status, path).toBe(200);
  expect(response.headers.get("X-Cache"), path).toBe("HIT");
}

/** An anonymous read right after a write: 200, and never the entry from before the write. */
async function readAfterWrite<T>(path: string): Promise<T> {
  const response = await conduitSettled(path);
  expect(response.status, path).toBe(200);
  expect(response.headers.get("X-Cache"), `read of ${path} after the write`).toBe("MISS");
  return json<T>(response);
}

async function tagsNow(): Promise<string[]> {
  const response = await conduitSettled("/tags");
  expect(response.status).toBe(200);
  return (await json<{ tags: string[] }>(response)).tags;
}

describe("anonymous reads go through the cache", () => {
  it("an article list: MISS then HIT, Vary: Authorization", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    const page = await warm<ArticlePage>(`/articles?author=${author.username}`);
    expect(page.articles.map((a) => a.slug)).toEqual([article.slug]);
    expect((await conduitSettled(`/articles?author=${author.username}`)).headers.get("Vary")).toContain(
      "Authorization",
    );
  });

  it("the global list and a tag list", async () => {
    const author = await registerConduitUser();
    const tag = uniqueTag("hit");
    await createArticle(author.token, { tagList: [tag] });
    await warm<ArticlePage>("/articles?limit=5");
    expect((await warm<ArticlePage>(`/articles?tag=${tag}`)).articlesCount).toBe(1);
  });

  it("a single article", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    expect((await warm<{ article: Article }>(`/articles/${article.slug}`)).article).toEqual(article);
  });

  it("tags", async () => {
    const author = await registerConduitUser();
    const tag = uniqueTag("tags");
    await createArticle(author.token, { tagList: [tag] });
    await createArticle(author.token, { tagList: [tag] });
    expect((await warm<{ tags: string[] }>("/tags")).tags).toContain(tag);
  });

  it("a profile", async () => {
    const user = await registerConduitUser();
    expect((await warm<{ profile: Profile }>(`/profiles/${user.username}`)).profile).toEqual(profileOf(user));
  });

  it("comments are not cached", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    await addComment(author.token, article.slug);
    for (let i = 0; i < 2; i++) {
      const response = await conduitSettled(`/articles/${article.slug}/comments`);
      expect(response.status).toBe(200);
      expect(response.headers.get("Cache-Control")).not.toMatch(/public/);
      expect(response.headers.get("X-Cache")).toBe("BYPASS");
    }
  });
});

describe("round trips", () => {
  it("a cached article is one KV round trip once the isolate has seen it (entry and generations together)", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    await warm(`/articles/${article.slug}`);
    const counting = countingKV();
    const ctx = createExecutionContext();
    const hit = await app.fetch(new Request(`${BASE}/api/articles/${article.slug}`), { ...env, KV: counting.kv }, ctx);
    await waitOnExecutionContext(ctx);
    expect(hit.headers.get("X-Cache")).toBe("HIT");
    expect(counting.reads()).toBe(1);
  });
});

describe("no query can fill another query's entry", () => {
  it("?author= spelled so that only JavaScript folds it (Kelvin sign K) finds nothing and leaves the real page alone", async () => {
    const author = await registerConduitUser({ username: `kate${Math.random().toString(36).slice(2, 8)}` });
    await createArticle(author.token);
    const lookalike = author.username.replace("k", "\u212a");
    expect(lookalike.toLowerCase()).toBe(author.username);
    const odd = await conduitSettled(`/articles?author=${encodeURIComponent(lookalike)}`);
    expect((await json<ArticlePage>(odd)).articlesCount).toBe(0);
    const real = await conduitSettled(`/articles?author=${author.username}`);
    expect((await json<ArticlePage>(real)).articlesCount).toBe(1);
  });
});

describe("reads with a token are personal", () => {
  it("BYPASS and private, no-store on lists, article, tags, profile, feed — and they fill nothing", async () => {
    const [author, reader] = [await registerConduitUser(), await registerConduitUser()];
    const article = await createArticle(author.token);
    await follow(reader.token, author.username);
    await favorite(reader.token, article.slug);
    const paths = [
      `/articles?author=${author.username}`,
      `/articles/${article.slug}`,
      "/tags",
      `/profiles/${author.username}`,
    ];
    for (const path of paths) {
      for (let i = 0; i < 2; i++) {
        const response = await conduitSettled(path, { token: reader.token });
        expect(response.status, path).toBe(200);
        expect(response.headers.get("X-Cache"), path).toBe("BYPASS");
        expect(response.headers.get("Cache-Control"), path).toBe(PRIVATE);
      }
    }
    // The personal reads above stored nothing: the first anonymous read is a MISS and shows
    // nobody's favorite or follow.
    const single = await conduitSettled(`/articles/${article.slug}`);
    expect(single.headers.get("X-Cache")).toBe("MISS");
    expect((await json<{ article: Article }>(single)).article).toMatchObject({
      favorited: false,
      favoritesCount: 1,
      author: profileOf(author),
    });
    const profile = await conduitSettled(`/profiles/${author.username}`);
    expect(profile.headers.get("X-Cache")).toBe("MISS");
    expect(await profile.json()).toEqual({ profile: profileOf(author) });
  });

  it("the feed: BYPASS and private, no-store", async () => {
    const [author, reader] = [await registerConduitUser(), await registerConduitUser()];
    await createArticle(author.token);
    await follow(reader.token, author.username);
    const response = await conduitSettled("/articles/feed", { token: reader.token });
    expect(response.status).toBe(200);
    expect(response.headers.get("Cache-Control")).toBe(PRIVATE);
    expect(response.headers.get("X-Cache")).toBe("BYPASS");
  });

  it("a warm public entry is never served to a token holder as-is: its flags are its own", async () => {
    const [author, reader] = [await registerConduitUser(), await registerConduitUser()];
    const article = await createArticle(author.token);
    await warm(`/articles/${article.slug}`);
    await warm(`/profiles/${author.username}`);
    await follow(reader.token, author.username);
    await favorite(reader.token, article.slug);
    const own = await conduitSettled(`/articles/${article.slug}`, { token: reader.token });
    expect(own.headers.get("Cache-Control")).toBe(PRIVATE);
    expect((await json<{ article: Article }>(own)).article).toMatchObject({
      favorited: true,
      favoritesCount: 1,
      author: profileOf(author, { following: true }),
    });
    const profile = await conduitSettled(`/profiles/${author.username}`, { token: reader.token });
    expect(await profile.json()).toEqual({ profile: profileOf(author, { following: true }) });
  });

  it("an error to a request with a token is private too", async () => {
    const reader = await registerConduitUser();
    const response = await conduitSettled("/articles/no-such-article-zzz", { token: reader.token });
    expect(response.headers.get("Cache-Control")).toBe(PRIVATE);
    await errorsOf(response, 404);
  });
});

describe("a write is visible at once to the next anonymous read here", () => {
  it("an account deletion: the articles it favourited show the lower count at once", async () => {
    const author = await registerConduitUser();
    const fan = await registerConduitUser();
    const article = await createArticle(author.token);
    await favorite(fan.token, article.slug);
    expect((await warm<{ article: Article }>(`/articles/${article.slug}`)).article.favoritesCount).toBe(1);
    expect((await api("/v1/users/me", { method: "DELETE", token: fan.token })).status).toBe(204);
    const after = await readAfterWrite<{ article: Article }>(`/articles/${article.slug}`);
    expect(after.article.favoritesCount).toBe(0);
  });

  it("create: the author's list and the tags", async () => {
    const author = await registerConduitUser();
    const first = await createArticle(author.token);
    const tag = uniqueTag("new");
    await warm(`/articles?author=${author.username}`);
    await warm("/tags");
    const second = await createArticle(author.token, { tagList: [tag] });
    const page = await readAfterWrite<ArticlePage>(`/articles?author=${author.username}`);
    expect(page.articlesCount).toBe(2);
    expect(page.articles.map((a) => a.slug)).toEqual([second.slug, first.slug]);
    expect(await tagsNow()).toContain(tag);
  });

  it("edit: the article and the lists", async () => {
    const author = await registerConduitUser();
    const tag = uniqueTag("edit");
    const article = await createArticle(author.token, { title: "Before", tagList: [tag] });
    await warm(`/articles/${article.slug}`);
    await warm(`/articles?author=${author.username}`);
    await warm(`/articles?tag=${tag}`);
    const put = await conduit(`/articles/${article.slug}`, {
      method: "PUT",
      token: author.token,
      body: { article: { title: "After", body: "New body" } },
    });
    expect(put.status).toBe(200);
    const single = await readAfterWrite<{ article: Article }>(`/articles/${article.slug}`);
    expect(single.article).toMatchObject({ title: "After", body: "New body" });
    for (const path of [`/articles?author=${author.username}`, `/articles?tag=${tag}`]) {
      const page = await readAfterWrite<ArticlePage>(path);
      expect(page.articles.map((a) => a.title)).toEqual(["After"]);
    }
  });

  it("favorite then unfavorite: favoritesCount in the article and the lists", async () => {
    const [author, fan] = [await registerConduitUser(), await registerConduitUser()];
    const article = await createArticle(author.token);
    const paths = [
      `/articles/${article.slug}`,
      `/articles?author=${author.username}`,
      `/articles?favorited=${fan.username}`,
    ];
    for (const path of paths) await warm(path);
    await favorite(fan.token, article.slug);
    expect((await readAfterWrite<{ article: Article }>(paths[0] ?? "")).article.favoritesCount).toBe(1);
    expect((await readAfterWrite<ArticlePage>(paths[1] ?? "")).articles[0]?.favoritesCount).toBe(1);
    expect((await readAfterWrite<ArticlePage>(paths[2] ?? "")).articlesCount).toBe(1);
    for (const path of paths) await expectHit(path);

    const unfavorite = await conduit(`/articles/${article.slug}/favorite`, { method: "DELETE", token: fan.token });
    expect(unfavorite.status).toBe(200);
    expect((await readAfterWrite<{ article: Article }>(paths[0] ?? "")).article.favoritesCount).toBe(0);
    expect((await readAfterWrite<ArticlePage>(paths[1] ?? "")).articles[0]?.favoritesCount).toBe(0);
    expect(await readAfterWrite<ArticlePage>(paths[2] ?? "")).toEqual({ articles: [], articlesCount: 0 });
  });

  it("profile rename: old name 404, new name 200, articles and lists show the new name", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    const oldName = author.username;
    await warm(`/profiles/${oldName}`);
    await warm(`/articles/${article.slug}`);
    await warm(`/articles?author=${oldName}`);
    await warm("/articles?limit=100");
    const newName = `${oldName}x`;
    const put = await conduit("/user", { method: "PUT", token: author.token, body: { user: { username: newName } } });
    expect(put.status).toBe(200);

    await errorsOf(await conduitSettled(`/profiles/${oldName}`), 404);
    expect((await readAfterWrite<{ profile: Profile }>(`/profiles/${newName}`)).profile.username).toBe(newName);
    expect((await readAfterWrite<{ article: Article }>(`/articles/${article.slug}`)).article.author.username).toBe(
      newName,
    );
    expect(await readAfterWrite<ArticlePage>(`/articles?author=${oldName}`)).toEqual({
      articles: [],
      articlesCount: 0,
    });
    const byNew = await readAfterWrite<ArticlePage>(`/articles?author=${newName}`);
    expect(byNew.articles.map((a) => [a.slug, a.author.username])).toEqual([[article.slug, newName]]);
    const global = await readAfterWrite<ArticlePage>("/articles?limit=100");
    expect(global.articles.find((a) => a.slug === article.slug)?.author.username).toBe(newName);
  });

  it("bio and image: the profile and the article's author", async () => {
    const author = await registerConduitUser();
    const article = await createArticle(author.token);
    await warm(`/profiles/${author.username}`);
    await warm(`/articles/${article.slug}`);
    const put = await conduit("/user", {
      method: "PUT",
      token: author.token,
      body: { user: { bio: "New bio", image: "https://example.com/new.png" } },
    });
    expect(put.status).toBe(200);
    const expected = profileOf(author, { bio: "New bio", image: "https://example.com/new.png" });
    expect((await readAfterWrite<{ profile: Profile }>(`/profiles/${author.username}`)).profile).toEqual(expected);
    expect((await readAfterWrite<{ article: Article }>(`/articles/${article.slug}`)).article.author).toEqual(expected);
  });

  it("archive (the author's DELETE): the article 404, gone from lists and tags", async () => {
    const author = await registerConduitUser();
    const tag = uniqueTag("archive");
    const article = await createArticle(author.token, { tagList: [tag] });
    await createArticle(author.token, { tagList: [tag] });
    await warm(`/articles/${article.slug}`);
    await warm(`/articles?author=${author.username}`);
    await warm(`/articles?tag=${tag}`);
    await warm("/tags");
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    await errorsOf(await conduitSettled(`/articles/${article.slug}`), 404);
    for (const path of [`/articles?author=${author.username}`, `/articles?tag=${tag}`]) {
      const page = await readAfterWrite<ArticlePage>(path);
      expect(page.articlesCount).toBe(1);
      expect(page.articles.map((a) => a.slug)).not.toContain(article.slug);
    }
    // The tag is still used by the other article, so it stays; a tag used only here goes.
    expect(await tagsNow()).toContain(tag);
  });

  it("archive of a tag's only articles removes the tag from a warm /tags", async () => {
    const author = await registerConduitUser();
    const tag = uniqueTag("only");
    const a = await createArticle(author.token, { tagList: [tag] });
    const b = await createArticle(author.token, { tagList: [tag] });
    expect((await warm<{ tags: string[] }>("/tags")).tags).toContain(tag);
    for (const article of [a, b]) {
      expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    }
    expect(await tagsNow()).not.toContain(tag);
  });

  it("an admin's hard delete: the article 404 and gone from the list", async () => {
    const author = await registerConduitUser();
    const admin = await registerConduitAdmin();
    const article = await createArticle(author.token);
    await warm(`/articles/${article.slug}`);
    await warm(`/articles?author=${author.username}`);
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    await errorsOf(await conduitSettled(`/articles/${article.slug}`), 404);
    expect(await readAfterWrite<ArticlePage>(`/articles?author=${author.username}`)).toEqual({
      articles: [],
      articlesCount: 0,
    });
  });
});
