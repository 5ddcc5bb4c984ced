import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { POST_BODY_MAX_BYTES } from "../src/middleware/json-body";
import {
  api,
  BASE,
  createAdmin,
  createPost,
  createUser,
  expectError,
  expectIssues,
  json,
  type Session,
  withRole,
} from "./helpers";

type PostStatus = "draft" | "published" | "archived";
type Post = {
  id: string;
  title: string;
  content: string;
  status: PostStatus;
  author: { id: string; name: string };
  created_at: string;
  updated_at: string;
  published_at: string | null;
  version: number;
};
type Page = { data: Post[]; next_cursor: string | null };

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const JSON_HEADERS = { "Content-Type": "application/json" };

/** Lets the clock move on (workerd's clock only advances across I/O and timers). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function createRaw(token: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return api("/v1/posts", { method: "POST", token, body, headers });
}

function patchRaw(token: string | undefined, id: string, body: unknown, headers: Record<string, string> = {}) {
  return api(`/v1/posts/${id}`, { method: "PATCH", token, body, headers });
}

function getRaw(id: string, token?: string, headers: Record<string, string> = {}): Promise<Response> {
  return api(`/v1/posts/${id}`, { token, headers });
}

async function create(token: string, body: { title?: string; content?: string; status?: PostStatus } = {}) {
  return (await createPost(token, body)) as Post;
}

async function read(id: string, token?: string): Promise<{ post: Post; etag: string }> {
  const response = await getRaw(id, token);
  expect(response.status).toBe(200);
  const etag = response.headers.get("ETag");
  expect(etag).toMatch(/^(W\/)?"[^"]+"$/);
  return { post: await json<Post>(response), etag: etag ?? "" };
}

async function patch(token: string, id: string, body: Record<string, unknown>): Promise<Post> {
  const response = await patchRaw(token, id, body);
  expect(response.status).toBe(200);
  return json<Post>(response);
}

/** Posts of one author, straight from D1 (not through the API under test). */
async function countPosts(authorId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from posts where author_id = ?").bind(authorId).first<{
    n: number;
  }>();
  return row?.n ?? Number.NaN;
}

/** The 404 for a post the caller may not see must be the one for an id that never existed. */
async function expectPostNotFound(response: Response, id: string): Promise<void> {
  const body = await expectError(response, 404, "NotFoundError");
  expect(body.error).toBe(`Post with id ${id} not found`);
  expect(body.details).toEqual({ resource: "post", id });
}

const POST_KEYS = [
  "author",
  "content",
  "created_at",
  "id",
  "published_at",
  "status",
  "title",
  "updated_at",
  "version",
].sort();

const TEXT_SAMPLES: [string, string][] = [
  ["emoji (astral, ZWJ sequences, flags)", "👩🏽‍💻 ships 🚀🎉 🇯🇵🏳️‍🌈"],
  ["CJK", "日本語のテキスト、中文内容，한국어 본문"],
  ["RTL with marks", "שלום עולם \u200fمرحبا بالعالم\u200e (mixed)"],
  ["combining vs precomposed", "Cafe\u0301 / Caf\u00e9 / \u1e9b\u0323"],
  ["zero-width and BOM", "a\u200bb\u200dc\ufeffd"],
  ["SQL", "'; DROP TABLE posts; -- \" OR 1=1 -- Robert'); DELETE FROM users WHERE ('1'='1"],
  ["HTML", "<script>alert('x')</script><img src=x onerror=alert(1)>&amp;&lt;"],
  ["escapes and whitespace", 'back\\slash "quoted" \n\ttabbed \r\n  padded  '],
  ["control characters", "bell\u0007 escape\u001b delete\u007f"],
];

describe("POST /v1/posts", () => {
  it("creates a draft: 201, Location and the exact Post shape", async () => {
    const author = await createUser({ name: "Ada Author" });
    const response = await createRaw(author.access_token, { title: "Hello", content: "World" });
    expect(response.status).toBe(201);
    const post = await json<Post>(response);
    expect(response.headers.get("Location")).toBe(`/v1/posts/${post.id}`);
    expect(Object.keys(post).sort()).toEqual(POST_KEYS);
    expect(post).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{1,128}$/),
      title: "Hello",
      content: "World",
      status: "draft",
      author: { id: author.id, name: "Ada Author" },
      created_at: expect.stringMatching(ISO_UTC),
      updated_at: post.created_at,
      published_at: null,
      version: 1,
    });
    expect(Object.keys(post.author).sort()).toEqual(["id", "name"]);
    expect((await read(post.id, author.access_token)).post).toEqual(post);
  });

  it("sets published_at when created as published", async () => {
    const author = await createUser();
    const post = await create(author.access_token, { status: "published" });
    expect(post.status).toBe("published");
    expect(post.published_at).toMatch(ISO_UTC);
    expect(post.published_at).toBe(post.created_at);
    expect(post.version).toBe(1);
  });

  it("requires a user or admin", async () => {
    const anonymous = await api("/v1/posts", { method: "POST", body: { title: "t", content: "c" } });
    const unauthenticated = await expectError(anonymous, 401, "AuthenticationError");
    expect(unauthenticated.details).toEqual({});
    expect(anonymous.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    const guest = await withRole(await createUser(), "guest");
    await expectError(await createRaw(guest.access_token, { title: "t", content: "c" }), 403, "PermissionError");
    expect(await countPosts(guest.id)).toBe(0);
    const admin = await createAdmin();
    expect((await create(admin.access_token)).author.id).toBe(admin.id);
  });

  it("accepts the length bounds exactly: 200-character title, 100,000-character content", async () => {
    const author = await createUser();
    const title = "T".repeat(200);
    const content = `${"0123456789".repeat(9_999)}abcdefghi\u00e9`;
    expect(content.length).toBe(100_000);
    const post = await create(author.access_token, { title, content });
    const { post: stored } = await read(post.id, author.access_token);
    expect(stored.title).toBe(title);
    expect(stored.content).toBe(content);
    expect(stored.content.length).toBe(100_000);
  });

  it("fits 100,000 characters even when every one is escaped in JSON (\\uXXXX)", async () => {
    const author = await createUser();
    const content = "\u0001".repeat(100_000);
    const body = JSON.stringify({ title: "escaped", content });
    expect(new TextEncoder().encode(body).byteLength).toBeGreaterThan(600_000);
    const response = await createRaw(author.access_token, body, JSON_HEADERS);
    expect(response.status).toBe(201);
    const { id } = await json<Post>(response);
    expect((await read(id, author.access_token)).post.content).toBe(content);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["empty title", { title: "", content: "c" }, ["title"]],
    ["blank title", { title: "   ", content: "c" }, ["title"]],
    ["whitespace-only title (tabs, newlines, NBSP)", { title: "\t\n\u00a0\u3000", content: "c" }, ["title"]],
    ["201-character title", { title: "T".repeat(201), content: "c" }, ["title"]],
    ["empty content", { title: "t", content: "" }, ["content"]],
    ["blank content", { title: "t", content: " \n " }, ["content"]],
    ["100,001-character content", { title: "t", content: "c".repeat(100_001) }, ["content"]],
    ["missing title", { content: "c" }, ["title"]],
    ["missing content", { title: "t" }, ["content"]],
    ["numeric title", { title: 123, content: "c" }, ["title"]],
    ["null content", { title: "t", content: null }, ["content"]],
    ["array title", { title: ["t"], content: "c" }, ["title"]],
    ["numeric status", { title: "t", content: "c", status: 1 }, ["status"]],
    ["status outside the enum", { title: "t", content: "c", status: "deleted" }, ["status"]],
    ["status in the wrong case", { title: "t", content: "c", status: "Published" }, ["status"]],
    ["NUL in title", { title: "a\u0000b", content: "c" }, ["title"]],
    ["NUL in content", { title: "t", content: "before\u0000after" }, ["content"]],
    ["lone surrogate in content", { title: "t", content: "broken \ud800 pair" }, ["content"]],
  ])("400s %s", async (_, body, paths) => {
    const author = await createUser();
    await expectIssues(await createRaw(author.access_token, body), paths);
    expect(await countPosts(author.id)).toBe(0);
  });

  it.each(["role", "author_id", "id", "version", "published_at", "created_at"])(
    "400s an unknown field (%s) and names it",
    async (field) => {
      const author = await createUser();
      const response = await createRaw(author.access_token, { title: "t", content: "c", [field]: "x" });
      const issues = await expectIssues(response, [field]);
      expect(issues).toEqual([{ path: field, message: "Unknown field" }]);
      expect(await countPosts(author.id)).toBe(0);
    },
  );

  it("400s a body that is not a JSON object", async () => {
    const author = await createUser();
    for (const raw of ["[1,2]", '"a string"', "42", "null"]) {
      await expectIssues(await createRaw(author.access_token, raw, JSON_HEADERS), [""]);
    }
    expect(await countPosts(author.id)).toBe(0);
  });

  it("400s malformed JSON as a ValidationError", async () => {
    const author = await createUser();
    for (const raw of ['{"title": "t", "content": ', "{title: 't'}", "", '{"title":"t","content":"c"} trailing']) {
      const response = await createRaw(author.access_token, raw, JSON_HEADERS);
      const body = await expectError(response, 400, "ValidationError");
      expect(body.details).toEqual({ issues: [{ path: "", message: expect.any(String) }] });
    }
    expect(await countPosts(author.id)).toBe(0);
  });

  it("415s a body that is not JSON", async () => {
    const author = await createUser();
    const cases: [string, Record<string, string>][] = [
      ['{"title":"t","content":"c"}', { "Content-Type": "text/plain" }],
      ["title=t&content=c", { "Content-Type": "application/x-www-form-urlencoded" }],
      ['{"title":"t","content":"c"}', { "Content-Type": "application/jsonx" }],
    ];
    for (const [raw, headers] of cases) {
      const body = await expectError(
        await createRaw(author.access_token, raw, headers),
        415,
        "UnsupportedMediaTypeError",
      );
      expect(body.details).toEqual({});
    }
    expect(await countPosts(author.id)).toBe(0);
  });

  it("413s a body over the limit", async () => {
    const author = await createUser();
    const raw = JSON.stringify({ title: "t", content: "x".repeat(POST_BODY_MAX_BYTES) });
    const response = await createRaw(author.access_token, raw, JSON_HEADERS);
    const body = await expectError(response, 413, "PayloadTooLargeError");
    expect(body.details).toEqual({ limit_bytes: POST_BODY_MAX_BYTES });
    expect(await countPosts(author.id)).toBe(0);
  });

  it.each(TEXT_SAMPLES)("stores %s byte-identical", async (_, sample) => {
    const author = await createUser({ name: `${sample.slice(0, 50)} author` });
    const created = await create(author.access_token, { title: sample.slice(0, 200), content: sample });
    expect(created.title).toBe(sample.slice(0, 200));
    expect(created.content).toBe(sample);
    const { post } = await read(created.id, author.access_token);
    expect(post.title).toBe(sample.slice(0, 200));
    expect(post.content).toBe(sample);
    expect(post.author.name).toBe(`${sample.slice(0, 50)} author`);
    const listed = await api(`/v1/posts?author_id=${author.id}`, { token: author.access_token });
    expect((await json<Page>(listed)).data.map((item) => item.content)).toEqual([sample]);
    const row = await env.DB.prepare("select title, content from posts where id = ?")
      .bind(created.id)
      .first<{ title: string; content: string }>();
    expect(row).toEqual({ title: sample.slice(0, 200), content: sample });
  });
});

describe("POST /v1/posts with Idempotency-Key", () => {
  const key = () => `key-${crypto.randomUUID()}`;

  it("replays the stored response for the same key and body, without a second post", async () => {
    const author = await createUser();
    const headers = { "Idempotency-Key": key() };
    const body = { title: "Once", content: "only once", status: "published" };
    const first = await createRaw(author.access_token, body, headers);
    expect(first.status).toBe(201);
    const firstText = await first.text();
    const second = await createRaw(author.access_token, body, headers);
    expect(second.status).toBe(201);
    expect(await second.text()).toBe(firstText);
    expect(second.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(second.headers.get("Content-Type")).toBe(first.headers.get("Content-Type"));
    expect(second.headers.get("Idempotent-Replayed")).toBe("true");
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await countPosts(author.id)).toBe(1);
    const listed = await api(`/v1/posts?author_id=${author.id}`, { token: author.access_token });
    expect((await json<Page>(listed)).data.map((post) => post.id)).toEqual([(JSON.parse(firstText) as Post).id]);
  });

  it("treats the same JSON with other key order and whitespace as the same body", async () => {
    const author = await createUser();
    const headers = { ...JSON_HEADERS, "Idempotency-Key": key() };
    const first = await createRaw(author.access_token, '{"title":"T","content":"C"}', headers);
    expect(first.status).toBe(201);
    const again = await createRaw(author.access_token, '{ "content" : "C",\n "title" : "T" }', headers);
    expect(again.status).toBe(201);
    expect(await again.text()).toBe(await first.text());
    expect(await countPosts(author.id)).toBe(1);
  });

  it("409s the same key with a different body", async () => {
    const author = await createUser();
    const headers = { "Idempotency-Key": key() };
    expect((await createRaw(author.access_token, { title: "A", content: "a" }, headers)).status).toBe(201);
    for (const other of [
      { title: "B", content: "a" },
      { title: "A", content: "b" },
      { title: "A", content: "a", status: "published" },
    ]) {
      const body = await expectError(await createRaw(author.access_token, other, headers), 409, "ConflictError");
      expect(body.details).toEqual({ reason: "idempotency_key_reuse" });
    }
    expect(await countPosts(author.id)).toBe(1);
  });

  it("keeps keys per user: another user's identical request creates its own post", async () => {
    const alice = await createUser({ name: "Alice" });
    const bob = await createUser({ name: "Bob" });
    const headers = { "Idempotency-Key": key() };
    const body = { title: "Shared key", content: "same body" };
    const fromAlice = await createRaw(alice.access_token, body, headers);
    const fromBob = await createRaw(bob.access_token, body, headers);
    expect(fromAlice.status).toBe(201);
    expect(fromBob.status).toBe(201);
    expect(fromBob.headers.get("Idempotent-Replayed")).toBeNull();
    const alicePost = await json<Post>(fromAlice);
    const bobPost = await json<Post>(fromBob);
    expect(bobPost.id).not.toBe(alicePost.id);
    expect(bobPost.author).toEqual({ id: bob.id, name: "Bob" });
    expect(await countPosts(alice.id)).toBe(1);
    expect(await countPosts(bob.id)).toBe(1);
    const replay = await createRaw(alice.access_token, body, headers);
    expect((await json<Post>(replay)).id).toBe(alicePost.id);
  });

  it("gives concurrent requests with one key one post and one answer", async () => {
    const author = await createUser();
    const headers = { "Idempotency-Key": key() };
    const body = { title: "Raced", content: "at the same time" };
    const responses = await Promise.all([1, 2, 3].map(() => createRaw(author.access_token, body, headers)));
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);
    const texts = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(texts).size).toBe(1);
    expect(await countPosts(author.id)).toBe(1);
  });

  it("answers a request that lost the insert race with the winner's response", async () => {
    // The real D1, with its batches held back: every request then finds no stored response
    // before any has written one, so all but one must lose on the key's primary key.
    const slowBatch = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async (statements: D1PreparedStatement[]) => {
            await pause(30);
            return target.batch(statements);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const author = await createUser();
    const headers = {
      Authorization: `Bearer ${author.access_token}`,
      "Content-Type": "application/json",
      "Idempotency-Key": key(),
    };
    const send = () =>
      app.fetch(
        new Request(`${BASE}/v1/posts`, {
          method: "POST",
          headers,
          body: JSON.stringify({ title: "Raced", content: "held back" }),
        }),
        { ...env, DB: slowBatch },
        createExecutionContext(),
      );
    const responses = await Promise.all([send(), send(), send()]);
    expect(responses.map((response) => response.status)).toEqual([201, 201, 201]);
    const texts = await Promise.all(responses.map((response) => response.text()));
    expect(new Set(texts).size).toBe(1);
    expect(new Set(responses.map((response) => response.headers.get("Location"))).size).toBe(1);
    expect(responses.filter((response) => response.headers.get("Idempotent-Replayed") === "true")).toHaveLength(2);
    expect(await countPosts(author.id)).toBe(1);
  });

  it("does not burn a key on a request that failed validation", async () => {
    const author = await createUser();
    const headers = { "Idempotency-Key": key() };
    await expectIssues(await createRaw(author.access_token, { title: "", content: "c" }, headers), ["title"]);
    const response = await createRaw(author.access_token, { title: "t", content: "c" }, headers);
    expect(response.status).toBe(201);
    expect(response.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await countPosts(author.id)).toBe(1);
  });

  it("forgets a key after 24 hours", async () => {
    const author = await createUser();
    const reused = key();
    const dayAndAnHourAgo = new Date(Date.now() - 25 * 60 * 60 * 1000).toISOString();
    await env.DB.prepare(
      "insert into idempotency_keys (user_id, key, request_hash, response_status, response_body, created_at) values (?, ?, ?, ?, ?, ?)",
    )
      .bind(author.id, reused, "0".repeat(64), 201, JSON.stringify({ id: "stale-post" }), dayAndAnHourAgo)
      .run();
    const headers = { "Idempotency-Key": reused };
    const body = { title: "Fresh", content: "after expiry" };
    const response = await createRaw(author.access_token, body, headers);
    expect(response.status).toBe(201);
    const post = await json<Post>(response);
    expect(post.title).toBe("Fresh");
    expect(await countPosts(author.id)).toBe(1);
    const replay = await createRaw(author.access_token, body, headers);
    expect((await json<Post>(replay)).id).toBe(post.id);
    expect(await countPosts(author.id)).toBe(1);
  });

  it("accepts a 255-character key", async () => {
    const author = await createUser();
    const headers = { "Idempotency-Key": `k${"~".repeat(254)}` };
    const first = await createRaw(author.access_token, { title: "t", content: "c" }, headers);
    expect(first.status).toBe(201);
    const second = await createRaw(author.access_token, { title: "t", content: "c" }, headers);
    expect(await second.text()).toBe(await first.text());
    expect(await countPosts(author.id)).toBe(1);
  });

  it.each([
    ["containing a space", "has space"],
    ["containing a tab", "has\ttab"],
    ["over 255 characters", "k".repeat(256)],
    ["with a control character", "del\u007fchar"],
  ])("400s a key %s", async (_, invalid) => {
    const author = await createUser();
    const response = await createRaw(author.access_token, { title: "t", content: "c" }, { "Idempotency-Key": invalid });
    await expectIssues(response, ["idempotency-key"]);
    expect(await countPosts(author.id)).toBe(0);
  });
});

describe("GET /v1/posts/:id", () => {
  it("serves a published post to anyone, with an ETag", async () => {
    const author = await createUser({ name: "Pub Author" });
    const post = await create(author.access_token, { status: "published", title: "Public" });
    const anonymous = await read(post.id);
    expect(anonymous.post).toEqual(post);
    const stranger = await createUser();
    expect((await read(post.id, stranger.access_token)).post).toEqual(post);
  });

  it("404s a draft to everyone but its author and admins, exactly like a missing post", async () => {
    const author = await createUser();
    const draft = await create(author.access_token, { status: "draft" });
    const archived = await create(author.access_token, { status: "archived" });
    const stranger = await createUser();
    for (const hidden of [draft, archived]) {
      await expectPostNotFound(await getRaw(hidden.id), hidden.id);
      await expectPostNotFound(await getRaw(hidden.id, stranger.access_token), hidden.id);
      expect((await read(hidden.id, author.access_token)).post).toEqual(hidden);
    }
    const admin = await createAdmin();
    expect((await read(draft.id, admin.access_token)).post).toEqual(draft);
    const missing = crypto.randomUUID();
    await expectPostNotFound(await getRaw(missing, stranger.access_token), missing);
  });

  it("answers If-None-Match with the current ETag with an empty 304", async () => {
    const author = await createUser();
    const post = await create(author.access_token, { status: "published" });
    for (const token of [undefined, author.access_token]) {
      const { etag } = await read(post.id, token);
      for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
        const response = await getRaw(post.id, token, { "If-None-Match": header });
        expect(response.status).toBe(304);
        expect(response.headers.get("ETag")).toBe(etag);
        expect(await response.text()).toBe("");
      }
      const other = await getRaw(post.id, token, { "If-None-Match": '"not-the-tag"' });
      expect(other.status).toBe(200);
      expect((await json<Post>(other)).id).toBe(post.id);
    }
  });

  it("stops matching the old ETag once the post changes", async () => {
    const author = await createUser();
    const post = await create(author.access_token, { status: "published", title: "Before" });
    for (const token of [undefined, author.access_token]) {
      const before = await read(post.id, token);
      const changed = await patch(author.access_token, post.id, { title: `After ${String(token !== undefined)}` });
      const response = await getRaw(post.id, token, { "If-None-Match": before.etag });
      expect(response.status).toBe(200);
      const etag = response.headers.get("ETag");
      expect(etag).not.toBe(before.etag);
      expect(await json<Post>(response)).toEqual(changed);
    }
  });

  it("stops matching the old ETag once the author is renamed", async () => {
    const author = await createUser({ name: "Old Name" });
    const post = await create(author.access_token, { status: "published" });
    const before = await read(post.id);
    expect((await getRaw(post.id, undefined, { "If-None-Match": before.etag })).status).toBe(304);
    const renamed = await api("/v1/users/me", {
      method: "PATCH",
      token: author.access_token,
      body: { name: "New Name" },
    });
    expect(renamed.status).toBe(200);
    const after = await getRaw(post.id, undefined, { "If-None-Match": before.etag });
    expect(after.status).toBe(200);
    expect((await json<Post>(after)).author).toEqual({ id: author.id, name: "New Name" });
  });

  it("shows anonymous readers every change at once", async () => {
    const author = await createUser();
    const post = await create(author.access_token, { status: "published", title: "v1" });
    await read(post.id);
    await read(post.id);
    await patch(author.access_token, post.id, { title: "v2" });
    expect((await read(post.id)).post).toMatchObject({ title: "v2", version: 2 });
    await patch(author.access_token, post.id, { status: "draft" });
    await expectPostNotFound(await getRaw(post.id), post.id);
    await patch(author.access_token, post.id, { status: "published" });
    expect((await read(post.id)).post).toMatchObject({ title: "v2", version: 4, status: "published" });
  });
});

describe("GET /v1/posts", () => {
  it("lists an author's posts as {data, next_cursor} with each caller's visibility", async () => {
    const author = await createUser();
    const published = await create(author.access_token, { status: "published" });
    const draft = await create(author.access_token, { status: "draft" });
    const archived = await create(author.access_token, { status: "archived" });
    const ids = async (token?: string) => {
      const response = await api(`/v1/posts?author_id=${author.id}`, { token });
      expect(response.status).toBe(200);
      const page = await json<Page>(response);
      expect(Object.keys(page).sort()).toEqual(["data", "next_cursor"]);
      expect(page.next_cursor).toBeNull();
      return page.data.map((post) => post.id).sort();
    };
    const stranger = await createUser();
    const admin = await createAdmin();
    const everything = [published.id, draft.id, archived.id].sort();
    expect(await ids()).toEqual([published.id]);
    expect(await ids(stranger.access_token)).toEqual([published.id]);
    expect(await ids(author.access_token)).toEqual(everything);
    expect(await ids(admin.access_token)).toEqual(everything);
  });

  it("lists posts in the same shape as a single read", async () => {
    const author = await createUser();
    const post = await create(author.access_token, { status: "published" });
    const response = await api(`/v1/posts?author_id=${author.id}`);
    expect(await json<Page>(response)).toEqual({ data: [post], next_cursor: null });
  });

  it("400s bad filters and unknown parameters, naming them", async () => {
    const author = await createUser();
    await expectIssues(await api("/v1/posts?status=deleted"), ["status"]);
    await expectIssues(await api("/v1/posts?author_id=not%20an%20id"), ["author_id"]);
    const unknown = await expectIssues(await api(`/v1/posts?author=${author.id}`), ["author"]);
    expect(unknown).toEqual([{ path: "author", message: "Unknown field" }]);
  });
});

describe("PATCH /v1/posts/:id", () => {
  it("bumps version by exactly one per change and returns the new ETag", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    const changes: Record<string, unknown>[] = [
      { title: "Second" },
      { content: "Third" },
      { status: "published" },
      { title: "Fifth", content: "Fifth", status: "archived" },
      { status: "draft" },
    ];
    let expected = 1;
    for (const change of changes) {
      const response = await patchRaw(author.access_token, post.id, change);
      expect(response.status).toBe(200);
      expected += 1;
      const updated = await json<Post>(response);
      expect(updated).toMatchObject({ ...change, version: expected, id: post.id, created_at: post.created_at });
      const current = await read(post.id, author.access_token);
      expect(current.post).toEqual(updated);
      expect(response.headers.get("ETag")).toBe(current.etag);
    }
    expect((await read(post.id, author.access_token)).post).toMatchObject({
      title: "Fifth",
      content: "Fifth",
      status: "draft",
      version: 6,
      author: { id: author.id },
    });
  });

  it("moves updated_at and keeps created_at", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    await pause(5);
    const updated = await patch(author.access_token, post.id, { title: "Later" });
    expect(updated.updated_at).toMatch(ISO_UTC);
    expect(updated.updated_at > post.updated_at).toBe(true);
    expect(updated.created_at).toBe(post.created_at);
  });

  it("sets published_at on first publish and keeps it through unpublish and republish", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    expect(post.published_at).toBeNull();
    await pause(5);
    const published = await patch(author.access_token, post.id, { status: "published" });
    expect(published.published_at).toMatch(ISO_UTC);
    expect(published.published_at).toBe(published.updated_at);
    expect((published.published_at ?? "") > post.created_at).toBe(true);
    const firstPublished = published.updated_at;
    await pause(5);
    const unpublished = await patch(author.access_token, post.id, { status: "draft" });
    expect(unpublished.published_at).toBe(firstPublished);
    await pause(5);
    const republished = await patch(author.access_token, post.id, { status: "published" });
    expect(republished.published_at).toBe(firstPublished);
    expect(republished.updated_at > firstPublished).toBe(true);
    const archived = await patch(author.access_token, post.id, { status: "archived" });
    expect(archived.published_at).toBe(firstPublished);
    const edited = await patch(author.access_token, post.id, { title: "Only the title" });
    expect(edited.published_at).toBe(firstPublished);
  });

  it("keeps published_at of a post created as published", async () => {
    const author = await createUser();
    const post = await create(author.access_token, { status: "published" });
    await pause(5);
    await patch(author.access_token, post.id, { status: "draft" });
    const again = await patch(author.access_token, post.id, { status: "published" });
    expect(again.published_at).toBe(post.published_at);
  });

  it("applies a write whose If-Match is the current ETag", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    const { etag } = await read(post.id, author.access_token);
    const response = await patchRaw(author.access_token, post.id, { title: "Matched" }, { "If-Match": etag });
    expect(response.status).toBe(200);
    expect(await json<Post>(response)).toMatchObject({ title: "Matched", version: 2 });
    const newEtag = response.headers.get("ETag") ?? "";
    const chained = await patchRaw(author.access_token, post.id, { title: "Chained" }, { "If-Match": newEtag });
    expect(chained.status).toBe(200);
    const any = await patchRaw(author.access_token, post.id, { title: "Any" }, { "If-Match": "*" });
    expect(any.status).toBe(200);
    expect((await json<Post>(any)).version).toBe(4);
  });

  it("412s a stale If-Match and leaves the post alone", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    const stale = (await read(post.id, author.access_token)).etag;
    await patch(author.access_token, post.id, { title: "Someone else's edit" });
    const current = await read(post.id, author.access_token);
    for (const header of [stale, `W/${current.etag}`, '"1-nope"']) {
      const response = await patchRaw(author.access_token, post.id, { title: "Lost update" }, { "If-Match": header });
      const body = await expectError(response, 412, "PreconditionFailedError");
      expect(body.details).toEqual({ current_etag: current.etag });
    }
    expect((await read(post.id, author.access_token)).post).toEqual(current.post);
  });

  it("400s an empty body", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    await expectIssues(await patchRaw(author.access_token, post.id, {}), [""]);
    expect((await read(post.id, author.access_token)).post.version).toBe(1);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ["empty title", { title: "" }, ["title"]],
    ["blank title", { title: "   " }, ["title"]],
    ["201-character title", { title: "T".repeat(201) }, ["title"]],
    ["100,001-character content", { content: "c".repeat(100_001) }, ["content"]],
    ["null title", { title: null }, ["title"]],
    ["status outside the enum", { status: "deleted" }, ["status"]],
    ["NUL in content", { content: "a\u0000" }, ["content"]],
    ["unknown field version", { title: "t", version: 7 }, ["version"]],
    ["unknown field author_id", { title: "t", author_id: "someone-else" }, ["author_id"]],
    ["unknown field published_at", { status: "published", published_at: "2020-01-01T00:00:00.000Z" }, ["published_at"]],
  ])("400s %s", async (_, body, paths) => {
    const author = await createUser();
    const post = await create(author.access_token);
    await expectIssues(await patchRaw(author.access_token, post.id, body), paths);
    expect((await read(post.id, author.access_token)).post).toEqual(post);
  });

  it("accepts 100,000 characters of content and reads them back", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    const content = "🙂".repeat(50_000);
    expect(content.length).toBe(100_000);
    const updated = await patch(author.access_token, post.id, { content });
    expect(updated.content).toBe(content);
    expect((await read(post.id, author.access_token)).post.content).toBe(content);
  });

  it("415s, 413s and 400s malformed bodies like POST does", async () => {
    const author = await createUser();
    const post = await create(author.access_token);
    const token = author.access_token;
    await expectError(
      await patchRaw(token, post.id, '{"title":"t"}', { "Content-Type": "text/plain" }),
      415,
      "UnsupportedMediaTypeError",
    );
    const tooBig = JSON.stringify({ content: "x".repeat(POST_BODY_MAX_BYTES) });
    await expectError(await patchRaw(token, post.id, tooBig, JSON_HEADERS), 413, "PayloadTooLargeError");
    const malformed = await expectError(
      await patchRaw(token, post.id, '{"title":', JSON_HEADERS),
      400,
      "ValidationError",
    );
    expect(malformed.details).toEqual({ issues: [{ path: "", message: expect.any(String) }] });
    expect((await read(post.id, token)).post).toEqual(post);
  });

  it("lets only the author or an admin edit; hidden posts 404", async () => {
    const author = await createUser({ name: "Owner" });
    const published = await create(author.access_token, { status: "published" });
    const draft = await create(author.access_token);
    const stranger = await createUser();
    await expectError(
      await patchRaw(stranger.access_token, published.id, { title: "Mine now" }),
      403,
      "PermissionError",
    );
    await expectPostNotFound(await patchRaw(stranger.access_token, draft.id, { title: "Mine now" }), draft.id);
    const guest = await withRole(await createUser(), "guest");
    await expectError(await patchRaw(guest.access_token, published.id, { title: "Guest" }), 403, "PermissionError");
    await expectError(await patchRaw(undefined, published.id, { title: "Anon" }), 401, "AuthenticationError");
    const missing = crypto.randomUUID();
    await expectPostNotFound(await patchRaw(author.access_token, missing, { title: "t" }), missing);
    expect((await read(published.id, author.access_token)).post).toEqual(published);

    const admin = await createAdmin();
    const byAdmin = await patch(admin.access_token, draft.id, { title: "Edited by admin" });
    expect(byAdmin).toMatchObject({ title: "Edited by admin", version: 2, author: { id: author.id, name: "Owner" } });
  });

  it("keeps an author who lost the user role from editing (guest)", async () => {
    const author = await createUser();
    const post = await create(author.access_token, { status: "published" });
    const demoted = await withRole(author, "guest");
    await expectError(await patchRaw(demoted.access_token, post.id, { title: "x" }), 403, "PermissionError");
  });
});

describe("DELETE /v1/posts/:id", () => {
  async function remove(id: string, token?: string): Promise<Response> {
    return api(`/v1/posts/${id}`, { method: "DELETE", token });
  }

  it("lets an admin delete: 204 with no body, then 404", async () => {
    const author = await createUser();
    const admin = await createAdmin();
    const post = await create(author.access_token, { status: "published" });
    await read(post.id);
    const response = await remove(post.id, admin.access_token);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    await expectPostNotFound(await getRaw(post.id, admin.access_token), post.id);
    await expectPostNotFound(await getRaw(post.id), post.id);
    await expectPostNotFound(await remove(post.id, admin.access_token), post.id);
    await expectPostNotFound(await patchRaw(author.access_token, post.id, { title: "gone" }), post.id);
    expect(await countPosts(author.id)).toBe(0);
    const listed = await api(`/v1/posts?author_id=${author.id}`, { token: author.access_token });
    expect((await json<Page>(listed)).data).toEqual([]);
  });

  it("lets an admin delete a draft", async () => {
    const author = await createUser();
    const admin = await createAdmin();
    const draft = await create(author.access_token);
    expect((await remove(draft.id, admin.access_token)).status).toBe(204);
    await expectPostNotFound(await getRaw(draft.id, author.access_token), draft.id);
  });

  it("403s the author (users archive instead) and 404s posts the caller cannot see", async () => {
    const author = await createUser();
    const published = await create(author.access_token, { status: "published" });
    const draft = await create(author.access_token);
    await expectError(await remove(published.id, author.access_token), 403, "PermissionError");
    await expectError(await remove(draft.id, author.access_token), 403, "PermissionError");
    const stranger = await createUser();
    await expectError(await remove(published.id, stranger.access_token), 403, "PermissionError");
    await expectPostNotFound(await remove(draft.id, stranger.access_token), draft.id);
    const guest: Session = await withRole(await createUser(), "guest");
    await expectError(await remove(published.id, guest.access_token), 403, "PermissionError");
    const anonymous = await remove(published.id);
    await expectError(anonymous, 401, "AuthenticationError");
    expect(anonymous.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect(await countPosts(author.id)).toBe(2);
  });

  it("404s an id that never existed", async () => {
    const admin = await createAdmin();
    const missing = crypto.randomUUID();
    await expectPostNotFound(await remove(missing, admin.access_token), missing);
  });
});
