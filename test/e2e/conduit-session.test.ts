// A RealWorld ("Conduit") frontend's session against /api on the wrangler dev that global-setup.ts
// starts, over HTTP with `Authorization: Token <jwt>` (API.md §9, /work/conduit-decisions.md):
// two users, a follow, two articles with tags, a favorite, comments, the feed and the filtered
// lists, then everything undone again. It registers two accounts; the e2e files share one dev
// server and its REGISTER_IP_LIMITER (20 a minute from one IP), and register ten in all
// (wrangler-dev, typed-client, docs-browser, smoke, account-recovery, account-lifecycle, and two
// here).
// The local database outlives a run, so names, tags and titles carry a per-run suffix and every
// assertion on a list is about this run's users and tags only.
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";

const base = inject("baseUrl");

interface Profile {
  username: string;
  bio: string | null;
  image: string | null;
  following: boolean;
}
interface User {
  email: string;
  token: string;
  username: string;
  bio: string | null;
  image: string | null;
}
interface Article {
  slug: string;
  title: string;
  description: string;
  body?: string;
  tagList: string[];
  createdAt: string;
  updatedAt: string;
  favorited: boolean;
  favoritesCount: number;
  author: Profile;
}
interface Comment {
  id: number;
  createdAt: string;
  updatedAt: string;
  body: string;
  author: Profile;
}
interface ArticleList {
  articles: Article[];
  articlesCount: number;
}
interface Errors {
  errors: { body: string[] };
}

/** One request to /api, as a Conduit frontend sends it; the JSON body (if any) is parsed. */
async function conduit<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  if (init.token) headers.Authorization = `Token ${init.token}`;
  const response = await fetch(`${base}/api${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: (text ? JSON.parse(text) : {}) as T };
}

const slugsOf = (list: ArticleList) => list.articles.map((article) => article.slug);

const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const alice = { username: `alice_${run}`, email: `Alice.${run}@Example.com`, password: "alice password 1" };
const bob = { username: `bob_${run}`, email: `bob.${run}@example.com`, password: "bob password 123" };
// Alphabetical order (alpha < mid < zeta) differs from the most-used-first order (zeta is on both).
const tag = { alpha: `${run}-alpha`, mid: `${run}-mid`, zeta: `${run}-zeta` };
const ours = (tags: string[]) => tags.filter((name) => name.startsWith(`${run}-`));

describe("a Conduit frontend's session against /api", () => {
  let aliceToken = "";
  let bobToken = "";
  let first: Article;
  let main: Article;
  let bobComment: Comment;
  let aliceComment: Comment;

  // Each step needs the ones before it: after the first failure the rest are skipped.
  let failed = false;
  beforeEach(({ skip }) => {
    if (failed) skip("an earlier step failed");
  });
  afterEach(({ task }) => {
    if (task.result?.state === "fail") failed = true;
  });

  it("registers two users, logs one in and reads the current user", async () => {
    const registered = await conduit<{ user: User }>("/users", { method: "POST", body: { user: alice } });
    expect(registered.status, registered.text).toBe(201);
    expect(registered.headers.get("X-Request-Id")).toBeTruthy();
    expect(registered.body.user).toEqual({
      email: alice.email.toLowerCase(),
      token: expect.any(String),
      username: alice.username,
      bio: null,
      image: null,
    });

    const bobRegistered = await conduit<{ user: User }>("/users", { method: "POST", body: { user: bob } });
    expect(bobRegistered.status, bobRegistered.text).toBe(201);
    expect(bobRegistered.body.user.username).toBe(bob.username);
    bobToken = bobRegistered.body.user.token;

    const login = await conduit<{ user: User }>("/users/login", {
      method: "POST",
      body: { user: { email: alice.email, password: alice.password } },
    });
    expect(login.status, login.text).toBe(200);
    expect(login.body.user.username).toBe(alice.username);
    aliceToken = login.body.user.token;

    const current = await conduit<{ user: User }>("/user", { token: aliceToken });
    expect(current.status, current.text).toBe(200);
    expect(current.body.user).toEqual({ ...login.body.user, token: aliceToken });
  });

  it("answers a missing token and a wrong password with 401, a taken username with 422, an unknown profile with 404, in the Conduit error shape", async () => {
    const anonymous = await conduit<Errors>("/user");
    expect(anonymous.status, anonymous.text).toBe(401);
    expect(anonymous.headers.get("WWW-Authenticate")).toMatch(/^Token( |$)/);
    expect(anonymous.body).toEqual({ errors: { body: [expect.any(String)] } });

    // Usernames are unique case-insensitively.
    const taken = await conduit<Errors>("/user", {
      method: "PUT",
      token: bobToken,
      body: { user: { username: alice.username.toUpperCase() } },
    });
    expect(taken.status, taken.text).toBe(422);
    expect(taken.body).toEqual({ errors: { body: ["username has already been taken"] } });

    // A wrong password, a login without one and an unknown profile: errors a frontend shows.
    const wrongPassword = await conduit<Errors>("/users/login", {
      method: "POST",
      body: { user: { email: alice.email, password: "not alice's password" } },
    });
    expect(wrongPassword.status, wrongPassword.text).toBe(401);
    expect(wrongPassword.body).toEqual({ errors: { body: [expect.any(String)] } });
    const noPassword = await conduit<Errors>("/users/login", {
      method: "POST",
      body: { user: { email: alice.email } },
    });
    expect(noPassword.status, noPassword.text).toBe(422);
    const nobody = await conduit<Errors>(`/profiles/nobody_${run}`);
    expect(nobody.status, nobody.text).toBe(404);
  });

  it("bob follows alice", async () => {
    const followed = await conduit<{ profile: Profile }>(`/profiles/${alice.username}/follow`, {
      method: "POST",
      token: bobToken,
    });
    expect(followed.status, followed.text).toBe(200);
    expect(followed.body.profile).toEqual({ username: alice.username, bio: null, image: null, following: true });
  });

  it("alice writes two articles with tags; the slug stays when the title changes", async () => {
    const created = await conduit<{ article: Article }>("/articles", {
      method: "POST",
      token: aliceToken,
      body: {
        article: { title: `First steps ${run}`, description: "Warming up", body: "Hello.", tagList: [tag.zeta] },
      },
    });
    expect(created.status, created.text).toBe(201);
    first = created.body.article;

    const mainCreated = await conduit<{ article: Article }>("/articles", {
      method: "POST",
      token: aliceToken,
      body: {
        article: {
          title: `How to Train Your Dragon ${run}`,
          description: "Ever wonder how?",
          body: "You have to believe.",
          tagList: [tag.zeta, tag.alpha, ` ${tag.mid} `, tag.alpha],
        },
      },
    });
    expect(mainCreated.status, mainCreated.text).toBe(201);
    main = mainCreated.body.article;
    expect(main).toEqual({
      slug: expect.stringMatching(new RegExp(`^how-to-train-your-dragon-${run}-`)),
      title: `How to Train Your Dragon ${run}`,
      description: "Ever wonder how?",
      body: "You have to believe.",
      tagList: [tag.alpha, tag.mid, tag.zeta],
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      favorited: false,
      favoritesCount: 0,
      author: { username: alice.username, bio: null, image: null, following: false },
    });
    expect(Number.isNaN(Date.parse(main.createdAt))).toBe(false);
    expect(main.slug).not.toBe(first.slug);

    const edited = await conduit<{ article: Article }>(`/articles/${first.slug}`, {
      method: "PUT",
      token: aliceToken,
      body: { article: { title: `First steps, revised ${run}` } },
    });
    expect(edited.status, edited.text).toBe(200);
    expect(edited.body.article).toMatchObject({
      slug: first.slug,
      title: `First steps, revised ${run}`,
      body: "Hello.",
      tagList: [tag.zeta],
    });
  });

  it("bob favorites the article and comments; alice replies", async () => {
    const favorited = await conduit<{ article: Article }>(`/articles/${main.slug}/favorite`, {
      method: "POST",
      token: bobToken,
    });
    expect(favorited.status, favorited.text).toBe(200);
    expect(favorited.body.article).toMatchObject({
      slug: main.slug,
      favorited: true,
      favoritesCount: 1,
      author: { username: alice.username, following: true },
    });

    const commented = await conduit<{ comment: Comment }>(`/articles/${main.slug}/comments`, {
      method: "POST",
      token: bobToken,
      body: { comment: { body: "Thank you so much!" } },
    });
    expect(commented.status, commented.text).toBe(200);
    bobComment = commented.body.comment;
    expect(bobComment).toEqual({
      id: expect.any(Number),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      body: "Thank you so much!",
      author: { username: bob.username, bio: null, image: null, following: false },
    });
    expect(Number.isInteger(bobComment.id)).toBe(true);

    const replied = await conduit<{ comment: Comment }>(`/articles/${main.slug}/comments`, {
      method: "POST",
      token: aliceToken,
      body: { comment: { body: "You're welcome." } },
    });
    expect(replied.status, replied.text).toBe(200);
    aliceComment = replied.body.comment;
    expect(aliceComment.id).not.toBe(bobComment.id);
  });

  it("bob's feed: alice's articles, newest first, paged, with his favorite marked", async () => {
    const feed = await conduit<ArticleList>("/articles/feed", { token: bobToken });
    expect(feed.status, feed.text).toBe(200);
    expect(feed.headers.get("Cache-Control")).toBe("private, no-store");
    expect(slugsOf(feed.body)).toEqual([main.slug, first.slug]);
    expect(feed.body.articlesCount).toBe(2);
    const [newest, older] = feed.body.articles;
    expect(newest).toMatchObject({ favorited: true, favoritesCount: 1, author: { following: true } });
    expect(older).toMatchObject({ favorited: false, favoritesCount: 0, author: { following: true } });
    expect(newest).not.toHaveProperty("body");

    const page = await conduit<ArticleList>("/articles/feed?limit=1&offset=1", { token: bobToken });
    expect(slugsOf(page.body)).toEqual([first.slug]);
    expect(page.body.articlesCount).toBe(2);
  });

  it("filters the global list by tag, author and favorited, for bob and for a guest", async () => {
    const byTag = await conduit<ArticleList>(`/articles?tag=${tag.zeta}`, { token: bobToken });
    expect(byTag.status, byTag.text).toBe(200);
    expect(slugsOf(byTag.body)).toEqual([main.slug, first.slug]);
    expect(byTag.body.articlesCount).toBe(2);

    const byRareTag = await conduit<ArticleList>(`/articles?tag=${tag.mid}`);
    expect(slugsOf(byRareTag.body)).toEqual([main.slug]);
    expect(byRareTag.body.articles[0]).toMatchObject({
      tagList: [tag.alpha, tag.mid, tag.zeta],
      favorited: false,
      favoritesCount: 1,
      author: { username: alice.username, following: false },
    });

    const byAuthor = await conduit<ArticleList>(`/articles?author=${alice.username}`);
    expect(slugsOf(byAuthor.body)).toEqual([main.slug, first.slug]);
    expect(byAuthor.body.articlesCount).toBe(2);
    expect(byAuthor.headers.get("Cache-Control")).toBe("public, max-age=30");

    const favoritedByBob = await conduit<ArticleList>(`/articles?favorited=${bob.username}`, { token: bobToken });
    expect(slugsOf(favoritedByBob.body)).toEqual([main.slug]);
    expect(favoritedByBob.body.articles[0]?.favorited).toBe(true);
    expect(favoritedByBob.body.articlesCount).toBe(1);

    const favoritedByAlice = await conduit<ArticleList>(`/articles?favorited=${alice.username}`);
    expect(favoritedByAlice.body).toEqual({ articles: [], articlesCount: 0 });

    const byNobody = await conduit<ArticleList>(`/articles?author=nobody_${run}`);
    expect(byNobody.status, byNobody.text).toBe(200);
    expect(byNobody.body).toEqual({ articles: [], articlesCount: 0 });
  });

  it("reads the single article, its comments, the tags and alice's profile", async () => {
    const asBob = await conduit<{ article: Article }>(`/articles/${main.slug}`, { token: bobToken });
    expect(asBob.status, asBob.text).toBe(200);
    expect(asBob.body.article).toMatchObject({
      slug: main.slug,
      body: "You have to believe.",
      favorited: true,
      favoritesCount: 1,
      author: { username: alice.username, following: true },
    });
    const asGuest = await conduit<{ article: Article }>(`/articles/${main.slug}`);
    expect(asGuest.body.article).toMatchObject({
      favorited: false,
      favoritesCount: 1,
      author: { username: alice.username, following: false },
    });

    // Oldest first; "following" is the reader's view of each commenter.
    const comments = await conduit<{ comments: Comment[] }>(`/articles/${main.slug}/comments`, { token: bobToken });
    expect(comments.status, comments.text).toBe(200);
    expect(comments.body.comments.map((comment) => [comment.id, comment.author.username, comment.body])).toEqual([
      [bobComment.id, bob.username, "Thank you so much!"],
      [aliceComment.id, alice.username, "You're welcome."],
    ]);
    expect(comments.body.comments.map((comment) => comment.author.following)).toEqual([false, true]);
    const guestComments = await conduit<{ comments: Comment[] }>(`/articles/${main.slug}/comments`);
    expect(guestComments.body.comments.map((comment) => comment.author.following)).toEqual([false, false]);

    // Most used first (zeta is on both articles), then by name.
    const tags = await conduit<{ tags: string[] }>("/tags");
    expect(tags.status, tags.text).toBe(200);
    expect(ours(tags.body.tags)).toEqual([tag.zeta, tag.alpha, tag.mid]);

    const profile = await conduit<{ profile: Profile }>(`/profiles/${alice.username}`, { token: bobToken });
    expect(profile.status, profile.text).toBe(200);
    expect(profile.body.profile).toEqual({ username: alice.username, bio: null, image: null, following: true });
    const guestProfile = await conduit<{ profile: Profile }>(`/profiles/${alice.username.toUpperCase()}`);
    expect(guestProfile.body.profile).toEqual({ username: alice.username, bio: null, image: null, following: false });
  });

  it("unfavorite and unfollow undo the flags, the counts and the feed", async () => {
    const unfavorited = await conduit<{ article: Article }>(`/articles/${main.slug}/favorite`, {
      method: "DELETE",
      token: bobToken,
    });
    expect(unfavorited.status, unfavorited.text).toBe(200);
    expect(unfavorited.body.article).toMatchObject({ slug: main.slug, favorited: false, favoritesCount: 0 });
    const favoritedByBob = await conduit<ArticleList>(`/articles?favorited=${bob.username}`);
    expect(favoritedByBob.body).toEqual({ articles: [], articlesCount: 0 });
    const guestView = await conduit<{ article: Article }>(`/articles/${main.slug}`);
    expect(guestView.body.article.favoritesCount).toBe(0);

    const unfollowed = await conduit<{ profile: Profile }>(`/profiles/${alice.username}/follow`, {
      method: "DELETE",
      token: bobToken,
    });
    expect(unfollowed.status, unfollowed.text).toBe(200);
    expect(unfollowed.body.profile).toEqual({ username: alice.username, bio: null, image: null, following: false });
    const feed = await conduit<ArticleList>("/articles/feed", { token: bobToken });
    expect(feed.body).toEqual({ articles: [], articlesCount: 0 });
  });

  it("deletes a comment, then the articles: the author's delete archives, and /api answers 404", async () => {
    const notHis = await conduit<Errors>(`/articles/${main.slug}/comments/${aliceComment.id}`, {
      method: "DELETE",
      token: bobToken,
    });
    expect(notHis.status, notHis.text).toBe(403);
    const deletedComment = await conduit(`/articles/${main.slug}/comments/${bobComment.id}`, {
      method: "DELETE",
      token: bobToken,
    });
    expect(deletedComment.status, deletedComment.text).toBe(204);
    expect(deletedComment.text).toBe("");
    const comments = await conduit<{ comments: Comment[] }>(`/articles/${main.slug}/comments`);
    expect(comments.body.comments.map((comment) => comment.id)).toEqual([aliceComment.id]);

    const notBobs = await conduit<Errors>(`/articles/${main.slug}`, { method: "DELETE", token: bobToken });
    expect(notBobs.status, notBobs.text).toBe(403);
    const deleted = await conduit(`/articles/${main.slug}`, { method: "DELETE", token: aliceToken });
    expect(deleted.status, deleted.text).toBe(204);
    const gone = await conduit<Errors>(`/articles/${main.slug}`);
    expect(gone.status, gone.text).toBe(404);
    expect(gone.body).toEqual({ errors: { body: [expect.any(String)] } });
    const byAuthor = await conduit<ArticleList>(`/articles?author=${alice.username}`);
    expect(slugsOf(byAuthor.body)).toEqual([first.slug]);
    expect(byAuthor.body.articlesCount).toBe(1);
    const tags = await conduit<{ tags: string[] }>("/tags");
    expect(ours(tags.body.tags)).toEqual([tag.zeta]);

    const firstDeleted = await conduit(`/articles/${first.slug}`, { method: "DELETE", token: aliceToken });
    expect(firstDeleted.status, firstDeleted.text).toBe(204);
    const none = await conduit<ArticleList>(`/articles?tag=${tag.zeta}`);
    expect(none.body).toEqual({ articles: [], articlesCount: 0 });
  });
});
