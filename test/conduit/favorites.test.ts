import { describe, expect, it } from "vitest";
import { json } from "../helpers";
import {
  type Article,
  conduit,
  createArticle,
  errorsOf,
  favorite,
  listArticles,
  profileOf,
  readArticle,
  registerConduitUser,
  setConduitRole,
} from "./helpers";

function favoriteRaw(method: "POST" | "DELETE", slug: string, token?: string): Promise<Response> {
  return conduit(`/articles/${slug}/favorite`, { method, token });
}

async function articleFrom(response: Response): Promise<Article> {
  expect(response.status).toBe(200);
  const body = await json<{ article: Article }>(response);
  expect(Object.keys(body)).toEqual(["article"]);
  return body.article;
}

describe("POST /api/articles/:slug/favorite", () => {
  it("200 with the whole article, favorited:true and the count; idempotent", async () => {
    const [author, fan] = [await registerConduitUser(), await registerConduitUser()];
    const created = await createArticle(author.token);
    for (let i = 0; i < 2; i++) {
      expect(await articleFrom(await favoriteRaw("POST", created.slug, fan.token))).toEqual({
        ...created,
        favorited: true,
        favoritesCount: 1,
      });
    }
    expect(await readArticle(created.slug)).toEqual({ ...created, favoritesCount: 1 });
  });

  it("counts every user once; favorited is per viewer", async () => {
    const [author, a, b, other] = [
      await registerConduitUser(),
      await registerConduitUser(),
      await registerConduitUser(),
      await registerConduitUser(),
    ];
    const created = await createArticle(author.token);
    await favorite(a.token, created.slug);
    const second = await favorite(b.token, created.slug);
    expect(second).toMatchObject({ favorited: true, favoritesCount: 2 });
    expect(await readArticle(created.slug, a.token)).toMatchObject({ favorited: true, favoritesCount: 2 });
    expect(await readArticle(created.slug, other.token)).toMatchObject({ favorited: false, favoritesCount: 2 });
    expect(await readArticle(created.slug)).toMatchObject({ favorited: false, favoritesCount: 2 });
    const listed = await listArticles(`author=${author.username}`, a.token);
    expect(listed.articles.map((x) => [x.slug, x.favorited, x.favoritesCount])).toEqual([[created.slug, true, 2]]);
  });

  it("the author may favorite their own article", async () => {
    const author = await registerConduitUser();
    const created = await createArticle(author.token);
    expect(await favorite(author.token, created.slug)).toEqual({ ...created, favorited: true, favoritesCount: 1 });
  });

  it("a guest may favorite", async () => {
    const author = await registerConduitUser();
    const guest = await setConduitRole(await registerConduitUser(), "guest");
    const created = await createArticle(author.token);
    expect(await articleFrom(await favoriteRaw("POST", created.slug, guest.token))).toMatchObject({
      favorited: true,
      favoritesCount: 1,
      author: profileOf(author),
    });
  });

  it("no token → 401; unknown slug → 404; an archived article → 404", async () => {
    const [author, fan] = [await registerConduitUser(), await registerConduitUser()];
    const created = await createArticle(author.token);
    await errorsOf(await favoriteRaw("POST", created.slug), 401);
    await errorsOf(await favoriteRaw("POST", "no-such-article-zzz", fan.token), 404);
    expect((await conduit(`/articles/${created.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    await errorsOf(await favoriteRaw("POST", created.slug, fan.token), 404);
    expect(await listArticles(`favorited=${fan.username}`)).toEqual({ articles: [], articlesCount: 0 });
  });
});

describe("DELETE /api/articles/:slug/favorite", () => {
  it("200 favorited:false with the count down; idempotent", async () => {
    const [author, a, b] = [await registerConduitUser(), await registerConduitUser(), await registerConduitUser()];
    const created = await createArticle(author.token);
    await favorite(a.token, created.slug);
    await favorite(b.token, created.slug);
    for (let i = 0; i < 2; i++) {
      expect(await articleFrom(await favoriteRaw("DELETE", created.slug, a.token))).toEqual({
        ...created,
        favorited: false,
        favoritesCount: 1,
      });
    }
    expect(await readArticle(created.slug, b.token)).toMatchObject({ favorited: true, favoritesCount: 1 });
    expect(await listArticles(`favorited=${a.username}`)).toEqual({ articles: [], articlesCount: 0 });
    expect((await listArticles(`favorited=${b.username}`)).articlesCount).toBe(1);
  });

  it("never favorited → 200 favorited:false, count unchanged", async () => {
    const [author, a, b] = [await registerConduitUser(), await registerConduitUser(), await registerConduitUser()];
    const created = await createArticle(author.token);
    await favorite(a.token, created.slug);
    expect(await articleFrom(await favoriteRaw("DELETE", created.slug, b.token))).toMatchObject({
      favorited: false,
      favoritesCount: 1,
    });
  });

  it("no token → 401; unknown slug → 404", async () => {
    const [author, fan] = [await registerConduitUser(), await registerConduitUser()];
    const created = await createArticle(author.token);
    await errorsOf(await favoriteRaw("DELETE", created.slug), 401);
    await errorsOf(await favoriteRaw("DELETE", "no-such-article-zzz", fan.token), 404);
  });
});
