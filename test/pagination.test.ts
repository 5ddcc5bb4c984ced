import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createAdmin, createPost, createUser, expectError, expectIssues, json } from "./helpers";

type PostStatus = "draft" | "published" | "archived";
type Post = {
  id: string;
  title: string;
  status: PostStatus;
  author: { id: string; name: string };
  created_at: string;
  version: number;
};
type Page = { data: Post[]; next_cursor: string | null };

/** The most pages any walk here may take; a cursor that loops fails the test instead of hanging. */
const MAX_PAGES = 60;

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function create(token: string, status: PostStatus = "draft", title = "A title"): Promise<Post> {
  return (await createPost(token, { status, title })) as Post;
}

async function createMany(token: string, count: number, status: PostStatus = "draft"): Promise<Post[]> {
  const created: Post[] = [];
  for (let i = 0; i < count; i++) created.push(await create(token, status, `post ${i}`));
  return created;
}

/** `(created_at DESC, id DESC)`, compared as the database compares text. */
function newestFirst(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  if (a.id !== b.id) return a.id < b.id ? 1 : -1;
  return 0;
}

function expectStrictlyNewestFirst(posts: Post[]): void {
  for (let i = 1; i < posts.length; i++) {
    const previous = posts[i - 1];
    const current = posts[i];
    if (!previous || !current) throw new Error("unreachable");
    expect(newestFirst(previous, current), `${previous.id} before ${current.id}`).toBe(-1);
  }
}

function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
  const query = search.toString();
  return query ? `${path}?${query}` : path;
}

async function fetchPage(path: string, token?: string): Promise<Page> {
  const response = await api(path, { token });
  expect(response.status).toBe(200);
  const page = await json<Page>(response);
  expect(Object.keys(page).sort()).toEqual(["data", "next_cursor"]);
  if (page.next_cursor !== null) expect(page.next_cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  return page;
}

/**
 * Follows `next_cursor` to the end. `between` runs after every page that has a successor, so a
 * test can write while a client is paging.
 */
async function walk(
  path: string,
  params: Record<string, string | number | undefined>,
  token?: string,
  between?: () => Promise<void>,
): Promise<{ posts: Post[]; pages: Page[] }> {
  const pages: Page[] = [];
  let cursor = params.cursor === undefined ? undefined : String(params.cursor);
  for (;;) {
    expect(pages.length, "too many pages: the cursor does not advance").toBeLessThan(MAX_PAGES);
    const page = await fetchPage(withQuery(path, { ...params, cursor }), token);
    pages.push(page);
    if (page.next_cursor === null) break;
    cursor = page.next_cursor;
    if (between) await between();
  }
  return { posts: pages.flatMap((page) => page.data), pages };
}

/** No duplicates, total order, and every post of `expected` present in `expected`'s order. */
function expectCompleteWalk(posts: Post[], expected: Post[]): void {
  const ids = posts.map((post) => post.id);
  expect(new Set(ids).size).toBe(ids.length);
  expectStrictlyNewestFirst(posts);
  const wanted = new Set(expected.map((post) => post.id));
  expect(ids.filter((id) => wanted.has(id))).toEqual([...expected].sort(newestFirst).map((post) => post.id));
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function encodeText(text: string): string {
  return toBase64Url(new TextEncoder().encode(text));
}

/** Inserts posts straight into D1, to pin `created_at` (ties) without waiting on the clock. */
async function insertPosts(authorId: string, createdAt: string, count: number, status: PostStatus): Promise<string[]> {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  await env.DB.batch(
    ids.map((id) =>
      env.DB.prepare(
        "insert into posts (id, author_id, slug, title, content, status, created_at, updated_at, published_at, version) values (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
      ).bind(id, authorId, id, `tie ${id}`, "same millisecond", status, createdAt, createdAt, null),
    ),
  );
  return ids;
}

describe("GET /v1/posts pagination", () => {
  it("defaults to 20 per page; next_cursor is null exactly at the end", async () => {
    const author = await createUser();
    const created = await createMany(author.access_token, 20);
    const all = await fetchPage(withQuery("/v1/posts", { author_id: author.id }), author.access_token);
    expect(all.data).toHaveLength(20);
    expect(all.next_cursor).toBeNull();
    created.push(await create(author.access_token));
    const first = await fetchPage(withQuery("/v1/posts", { author_id: author.id }), author.access_token);
    expect(first.data).toHaveLength(20);
    expect(first.next_cursor).not.toBeNull();
    const second = await fetchPage(
      withQuery("/v1/posts", { author_id: author.id, cursor: first.next_cursor ?? "" }),
      author.access_token,
    );
    expect(second.data).toHaveLength(1);
    expect(second.next_cursor).toBeNull();
    expectCompleteWalk([...first.data, ...second.data], created);
  });

  it("honours limit 1 and 100", async () => {
    const author = await createUser();
    const created = await createMany(author.access_token, 3);
    const one = await fetchPage(withQuery("/v1/posts", { author_id: author.id, limit: 1 }), author.access_token);
    expect(one.data.map((post) => post.id)).toEqual([[...created].sort(newestFirst)[0]?.id]);
    expect(one.next_cursor).not.toBeNull();
    const hundred = await fetchPage(withQuery("/v1/posts", { author_id: author.id, limit: 100 }), author.access_token);
    expect(hundred.data).toHaveLength(3);
    expect(hundred.next_cursor).toBeNull();
  });

  it.each(["0", "101", "-1", "abc", "10abc", "1.5", ""])("400s limit=%j", async (limit) => {
    await expectIssues(await api(`/v1/posts?limit=${encodeURIComponent(limit)}`), ["limit"]);
  });

  it("400s an unknown query parameter, naming it", async () => {
    for (const name of ["page", "offset", "sort", "author"]) {
      const issues = await expectIssues(await api(`/v1/posts?${name}=1`), [name]);
      expect(issues).toEqual([{ path: name, message: "Unknown field" }]);
    }
    const body = await expectError(await api("/v1/posts?limit=5&offset=10"), 400, "ValidationError");
    expect(body.error).toContain("offset");
  });

  it("puts the newest post first", async () => {
    const author = await createUser();
    const created: Post[] = [];
    for (let i = 0; i < 4; i++) {
      created.push(await create(author.access_token, "draft", `post ${i}`));
      await pause(3);
    }
    const page = await fetchPage(withQuery("/v1/posts", { author_id: author.id }), author.access_token);
    expect(page.data.map((post) => post.title)).toEqual(["post 3", "post 2", "post 1", "post 0"]);
    expectStrictlyNewestFirst(page.data);
  });

  it("orders posts created in the same millisecond by id, across page boundaries", async () => {
    const author = await createUser();
    const sameInstant = "2021-06-01T12:00:00.000Z";
    const ties = await insertPosts(author.id, sameInstant, 7, "published");
    const older = await insertPosts(author.id, "2021-06-01T11:59:59.999Z", 2, "published");
    const { posts, pages } = await walk("/v1/posts", { author_id: author.id, limit: 2 });
    expect(pages).toHaveLength(5);
    expect(posts.map((post) => post.id)).toEqual([...[...ties].sort().reverse(), ...[...older].sort().reverse()]);
    expectStrictlyNewestFirst(posts);
  });

  it("orders posts created concurrently (shared milliseconds) totally", async () => {
    const author = await createUser();
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => create(author.access_token, "draft", `c${i}`)),
    );
    const { posts } = await walk("/v1/posts", { author_id: author.id, limit: 5 }, author.access_token);
    expect(posts).toHaveLength(12);
    expectCompleteWalk(posts, created);
  });

  it("loses and repeats nothing while new posts arrive between pages", async () => {
    const author = await createUser();
    const existing = await createMany(author.access_token, 11);
    // Later posts then get a strictly later created_at, so none of them belongs after page one.
    await pause(2);
    const arrived: Post[] = [];
    const { posts, pages } = await walk(
      "/v1/posts",
      { author_id: author.id, limit: 3 },
      author.access_token,
      async () => {
        arrived.push(await create(author.access_token, "draft", "late"));
        arrived.push(await create(author.access_token, "draft", "late"));
      },
    );
    expect(pages.length).toBeGreaterThanOrEqual(4);
    expect(arrived.length).toBeGreaterThan(0);
    expectCompleteWalk(posts, existing);
    // Posts made after the walk began are newer than its first page, so they never show up later.
    const latecomers = new Set(arrived.map((post) => post.id));
    expect(posts.filter((post) => latecomers.has(post.id))).toEqual([]);
  });

  it("loses and repeats nothing for anonymous readers while published posts arrive", async () => {
    const author = await createUser();
    const existing = await createMany(author.access_token, 8, "published");
    await createMany(author.access_token, 2, "draft");
    await pause(2);
    const { posts } = await walk(
      "/v1/posts",
      { author_id: author.id, status: "published", limit: 3 },
      undefined,
      async () => {
        await create(author.access_token, "published", "late");
      },
    );
    expectCompleteWalk(posts, existing);
    expect(posts.every((post) => post.status === "published")).toBe(true);
    expect(posts).toHaveLength(existing.length);
  });

  it("continues past a deleted post the cursor points at", async () => {
    const author = await createUser();
    const admin = await createAdmin();
    const created = await createMany(author.access_token, 6, "published");
    const first = await fetchPage(withQuery("/v1/posts", { author_id: author.id, limit: 2 }));
    const last = first.data.at(-1);
    if (!last || first.next_cursor === null) throw new Error("expected a full first page");
    expect((await api(`/v1/posts/${last.id}`, { method: "DELETE", token: admin.access_token })).status).toBe(204);
    const rest = await walk("/v1/posts", { author_id: author.id, limit: 2, cursor: first.next_cursor });
    const remaining = created.filter((post) => !first.data.some((shown) => shown.id === post.id));
    expectCompleteWalk(rest.posts, remaining);
    expect(rest.posts).toHaveLength(remaining.length);
  });

  it("combines status and author_id filters with the cursor", async () => {
    const author = await createUser();
    const other = await createUser();
    const byStatus: Record<PostStatus, Post[]> = { draft: [], published: [], archived: [] };
    const statuses: PostStatus[] = ["published", "draft", "published", "archived", "published", "draft"];
    for (const status of [...statuses, ...statuses]) {
      byStatus[status].push(await create(author.access_token, status));
      await create(other.access_token, status);
    }
    for (const status of ["published", "draft", "archived"] as const) {
      const { posts } = await walk("/v1/posts", { author_id: author.id, status, limit: 2 }, author.access_token);
      expect(posts).toHaveLength(byStatus[status].length);
      expectCompleteWalk(posts, byStatus[status]);
    }
    const anonymous = await walk("/v1/posts", { author_id: author.id, status: "published", limit: 2 });
    expectCompleteWalk(anonymous.posts, byStatus.published);
    expect(anonymous.posts).toHaveLength(byStatus.published.length);
    const unseen = await walk("/v1/posts", { author_id: author.id, status: "draft", limit: 2 }, other.access_token);
    expect(unseen.posts).toEqual([]);
    expect((await walk("/v1/posts", { author_id: author.id, status: "draft", limit: 2 })).posts).toEqual([]);
  });

  it("combines a status filter with visibility and the cursor across all authors", async () => {
    const author = await createUser();
    const other = await createUser();
    const drafts: Post[] = [];
    for (let i = 0; i < 5; i++) {
      drafts.push(await create(author.access_token, "draft"));
      await create(other.access_token, "draft");
    }
    const { posts } = await walk("/v1/posts", { status: "draft", limit: 2 }, author.access_token);
    expect(posts.map((post) => post.author.id).every((id) => id === author.id)).toBe(true);
    expect(posts).toHaveLength(drafts.length);
    expectCompleteWalk(posts, drafts);
  });
});

describe("GET /v1/posts cursors", () => {
  async function validCursor(): Promise<string> {
    const author = await createUser();
    await createMany(author.access_token, 2, "published");
    const page = await fetchPage(withQuery("/v1/posts", { author_id: author.id, limit: 1 }));
    if (page.next_cursor === null) throw new Error("expected a cursor");
    return page.next_cursor;
  }

  async function expectBadCursor(path: string, cursor: string): Promise<void> {
    const response = await api(withQuery(path, { cursor }));
    const issues = await expectIssues(response, ["cursor"]);
    expect(issues).toHaveLength(1);
  }

  it.each<[string, string]>([
    ["a random string", "not-a-cursor-at-all"],
    ["characters outside base64url", "abc+/def=="],
    ["spaces and punctuation", "hello world!"],
    ["one base64url character too many", "abcde"],
    ["valid base64url of random bytes", toBase64Url(new Uint8Array([0xff, 0xfe, 0x00, 0x13, 0x37, 0x80, 0x9f, 0x42]))],
    ["valid base64url of plain text", encodeText("garbage that is not json")],
    ["a JSON object", encodeText('{"created_at":"2021-01-01T00:00:00.000Z","id":"x"}')],
    ["a one-element array", encodeText('["2021-01-01T00:00:00.000Z"]')],
    ["a three-element array", encodeText('["2021-01-01T00:00:00.000Z","abc","extra"]')],
    ["a date that is not ISO-8601 UTC", encodeText('["2021-01-01 00:00:00","abc"]')],
    ["an id with forbidden characters", encodeText('["2021-01-01T00:00:00.000Z","1 OR 1=1"]')],
    ["a numeric id", encodeText('["2021-01-01T00:00:00.000Z",42]')],
    ["an overlong cursor", "A".repeat(2048)],
  ])("400s %s", async (_, cursor) => {
    await expectBadCursor("/v1/posts", cursor);
  });

  it("400s a tampered cursor", async () => {
    const cursor = await validCursor();
    const first = cursor[0] === "W" ? "X" : "W";
    await expectBadCursor("/v1/posts", `${first}${cursor.slice(1)}`);
    await expectBadCursor("/v1/posts", cursor.slice(0, -3));
    await expectBadCursor("/v1/posts", `${cursor}=`);
    await expectBadCursor("/v1/posts", `${cursor}${cursor}`);
    const middle = Math.floor(cursor.length / 2);
    await expectBadCursor("/v1/posts", `${cursor.slice(0, middle)}!${cursor.slice(middle + 1)}`);
    expect((await api(withQuery("/v1/posts", { cursor }))).status).toBe(200);
  });

  it("400s a malformed cursor on /v1/users/:id/posts too", async () => {
    const author = await createUser();
    await expectBadCursor(`/v1/users/${author.id}/posts`, "not-a-cursor-at-all");
    await expectBadCursor(`/v1/users/${author.id}/posts`, encodeText("[1,2]"));
  });
});

describe("GET /v1/users/:id/posts pagination", () => {
  it("pages an author's posts newest first with the same rules", async () => {
    const author = await createUser();
    const created = await createMany(author.access_token, 21);
    const first = await fetchPage(`/v1/users/${author.id}/posts`, author.access_token);
    expect(first.data).toHaveLength(20);
    const { posts } = await walk(`/v1/users/${author.id}/posts`, { limit: 4 }, author.access_token);
    expect(posts).toHaveLength(21);
    expectCompleteWalk(posts, created);
  });

  it("loses and repeats nothing while new posts arrive between pages", async () => {
    const author = await createUser();
    const existing = await createMany(author.access_token, 10, "published");
    await pause(2);
    const { posts } = await walk(`/v1/users/${author.id}/posts`, { limit: 3 }, undefined, async () => {
      await create(author.access_token, "published", "late");
      await create(author.access_token, "published", "late");
    });
    expectCompleteWalk(posts, existing);
    expect(posts).toHaveLength(existing.length);
  });

  it("orders same-millisecond posts by id across pages", async () => {
    const author = await createUser();
    const ties = await insertPosts(author.id, "2022-02-02T02:02:02.002Z", 5, "published");
    const { posts } = await walk(`/v1/users/${author.id}/posts`, { limit: 2 });
    expect(posts.map((post) => post.id)).toEqual([...ties].sort().reverse());
  });

  it("combines the status filter with the cursor and visibility", async () => {
    const author = await createUser();
    const published: Post[] = [];
    const drafts: Post[] = [];
    for (let i = 0; i < 5; i++) {
      published.push(await create(author.access_token, "published"));
      drafts.push(await create(author.access_token, "draft"));
    }
    const path = `/v1/users/${author.id}/posts`;
    const anonymous = await walk(path, { limit: 2 });
    expect(anonymous.posts).toHaveLength(5);
    expectCompleteWalk(anonymous.posts, published);
    const own = await walk(path, { status: "draft", limit: 2 }, author.access_token);
    expect(own.posts).toHaveLength(5);
    expectCompleteWalk(own.posts, drafts);
    const everything = await walk(path, { limit: 3 }, author.access_token);
    expectCompleteWalk(everything.posts, [...published, ...drafts]);
    expect(everything.posts).toHaveLength(10);
    expect((await walk(path, { status: "draft", limit: 2 })).posts).toEqual([]);
  });

  it("400s limits out of range and unknown parameters, author_id included", async () => {
    const author = await createUser();
    const path = `/v1/users/${author.id}/posts`;
    for (const limit of ["0", "101", "x"]) await expectIssues(await api(`${path}?limit=${limit}`), ["limit"]);
    const issues = await expectIssues(await api(`${path}?author_id=${author.id}`), ["author_id"]);
    expect(issues).toEqual([{ path: "author_id", message: "Unknown field" }]);
    await expectIssues(await api(`${path}?status=bogus`), ["status"]);
  });

  it("404s an unknown user", async () => {
    const missing = crypto.randomUUID();
    const body = await expectError(await api(`/v1/users/${missing}/posts`), 404, "NotFoundError");
    expect(body.details).toEqual({ resource: "user", id: missing });
  });
});
