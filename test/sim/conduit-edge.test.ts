// The RealWorld surface under production conditions (test/sim/README.md): every /api write is
// read back at once at the location that made it while that location's D1 replica lags, by a
// client that, like RealWorld frontends, keeps no X-D1-Bookmark; other locations converge once
// everything has propagated; a profile change retires only that author's entries.
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { EdgeSimulation, type Location } from "./edge";

// The app's KV retry pauses move the simulation's clock instead of waiting (simulated-pauses.ts).
vi.mock("../../src/lib/kv-write", async (original) =>
  (await import("./simulated-pauses")).withSimulatedPauses(original),
);

let sim: EdgeSimulation;
beforeAll(async () => {
  sim = await EdgeSimulation.create();
});
beforeEach(async () => {
  await sim.reset();
});

type Json = Record<string, unknown>;
let counter = 0;

/** A RealWorld frontend: `Token` header, no bookmark. */
async function conduit(location: Location, path: string, init: { method?: string; body?: Json; token?: string } = {}) {
  const headers = new Headers();
  if (init.token) headers.set("Authorization", `Token ${init.token}`);
  if (init.body) headers.set("Content-Type", "application/json");
  return sim.fetch(location, `/api${path}`, {
    method: init.method ?? "GET",
    headers,
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
}

async function ok<T = Json>(response: Promise<Response>, status = 200): Promise<T> {
  const answered = await response;
  const text = await answered.text();
  expect(answered.status, text).toBe(status);
  return JSON.parse(text) as T;
}

async function signUp(location: Location): Promise<{ token: string; username: string }> {
  counter += 1;
  const username = `sim${counter}${Math.random().toString(36).slice(2, 6)}`;
  const body = { user: { username, email: `${username}@example.com`, password: "pass-word-1" } };
  const { user } = await ok<{ user: { token: string } }>(conduit(location, "/users", { method: "POST", body }), 201);
  return { token: user.token, username };
}

type Article = { slug: string; body: string; favoritesCount: number; author: { bio: string | null } };

async function publish(location: Location, token: string, title: string): Promise<string> {
  const body = { article: { title, description: "d", body: "first", tagList: ["sim"] } };
  const { article } = await ok<{ article: Article }>(
    conduit(location, "/articles", { method: "POST", body, token }),
    201,
  );
  return article.slug;
}

const anonymousArticle = async (location: Location, slug: string) =>
  (await ok<{ article: Article }>(conduit(location, `/articles/${slug}`))).article;

describe("/api writes are read back at once where they were made, replica lag or not", () => {
  it("favourite and edit at A show at A (cached entries and lists included) before A's replica catches up", async () => {
    const author = await signUp("A");
    const reader = await signUp("A");
    const slug = await publish("A", author.token, "Dragons");
    await sim.settle();
    // Warm the shared entries at A.
    expect((await anonymousArticle("A", slug)).favoritesCount).toBe(0);
    await ok(conduit("A", "/articles?tag=sim"));

    await ok(conduit("A", `/articles/${slug}/favorite`, { method: "POST", token: reader.token }));
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    expect((await anonymousArticle("A", slug)).favoritesCount).toBe(1);
    const list = await ok<{ articles: Article[] }>(conduit("A", "/articles?tag=sim"));
    expect(list.articles.map((article) => article.favoritesCount)).toEqual([1]);
    const favorited = await ok<{ articlesCount: number }>(conduit("A", `/articles?favorited=${reader.username}`));
    expect(favorited.articlesCount).toBe(1);

    const edit = { article: { body: "second" } };
    await ok(conduit("A", `/articles/${slug}`, { method: "PUT", body: edit, token: author.token }));
    expect((await anonymousArticle("A", slug)).body).toBe("second");

    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    await sim.settle();
    for (const location of ["A", "B", "C"] as const) {
      const article = await anonymousArticle(location, slug);
      expect([article.body, article.favoritesCount]).toEqual(["second", 1]);
    }
  });

  it("a comment at A is in the article's comments at A at once, with nothing else written since the replica caught up", async () => {
    const author = await signUp("A");
    const reader = await signUp("A");
    const slug = await publish("A", author.token, "Talk");
    await sim.settle();
    expect((await ok<{ comments: unknown[] }>(conduit("A", `/articles/${slug}/comments`))).comments).toEqual([]);

    const comment = { comment: { body: "nice" } };
    await ok(conduit("A", `/articles/${slug}/comments`, { method: "POST", body: comment, token: reader.token }));
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    const { comments } = await ok<{ comments: { body: string }[] }>(conduit("A", `/articles/${slug}/comments`));
    expect(comments.map((c) => c.body)).toEqual(["nice"]);
  });

  it("a follow at A puts the author's articles in the follower's feed at A at once", async () => {
    const author = await signUp("A");
    const follower = await signUp("A");
    await publish("A", author.token, "Followed");
    await sim.settle();
    const before = await ok<{ articlesCount: number }>(conduit("A", "/articles/feed", { token: follower.token }));
    expect(before.articlesCount).toBe(0);

    await ok(conduit("A", `/profiles/${author.username}/follow`, { method: "POST", token: follower.token }));
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    const after = await ok<{ articlesCount: number }>(conduit("A", "/articles/feed", { token: follower.token }));
    expect(after.articlesCount).toBe(1);
  });

  it("an author's archive (DELETE) at A is a 404 at A at once, and everywhere after propagation", async () => {
    const author = await signUp("A");
    const slug = await publish("A", author.token, "Gone soon");
    await sim.settle();
    for (const location of ["A", "B"] as const) await anonymousArticle(location, slug);

    expect((await conduit("A", `/articles/${slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    expect((await conduit("A", `/articles/${slug}`)).status).toBe(404);
    const tagged = await ok<{ articlesCount: number }>(conduit("A", "/articles?tag=sim"));
    expect(tagged.articlesCount).toBe(0);
    await sim.settle();
    expect((await conduit("B", `/articles/${slug}`)).status).toBe(404);
  });
});

describe("a profile change retires only that author's entries", () => {
  it("a new bio shows at A at once in the profile and the article; another author's article stays a HIT", async () => {
    const changing = await signUp("A");
    const other = await signUp("A");
    const slug = await publish("A", changing.token, "Mine");
    const otherSlug = await publish("A", other.token, "Theirs");
    await sim.settle();
    await anonymousArticle("A", slug);
    await anonymousArticle("A", otherSlug);
    await ok(conduit("A", `/profiles/${changing.username}`));

    await ok(conduit("A", "/user", { method: "PUT", body: { user: { bio: "new bio" } }, token: changing.token }));
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    const { profile } = await ok<{ profile: { bio: string } }>(conduit("A", `/profiles/${changing.username}`));
    expect(profile.bio).toBe("new bio");
    expect((await anonymousArticle("A", slug)).author.bio).toBe("new bio");
    const untouched = await conduit("A", `/articles/${otherSlug}`);
    expect(untouched.headers.get("X-Cache")).toBe("HIT");
  });
});
