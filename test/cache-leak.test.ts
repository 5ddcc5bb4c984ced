import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { postEtag } from "../src/lib/etag";
import { BASE, createAdmin, createUser, fetchSettled, type Session, withRole } from "./helpers";
import { fuzzSeed, PROPERTY_TIMEOUT_MS, SHRINK_TIME_LIMIT_MS } from "./seed";

/**
 * Random sequences of writes and reads by random callers, checked against a model of who may see
 * what. Reads go through the KV read cache (X-Cache HIT/MISS/BYPASS), so a stale or leaked cache
 * entry shows up as a difference from the model. Reproduce a run with its seed:
 * `VITE_FUZZ_SEED=<seed> npx vitest run --project workers test/cache-leak.test.ts`.
 */
const SEED = fuzzSeed();
const RUNS = 60;
const MAX_OPERATIONS = 25;
/** Lists spanning every run (all of the file's posts) are checked on their first pages; per-run authors' lists to the end. */
const MAX_GLOBAL_PAGES = 3;
const MAX_AUTHOR_PAGES = 60;

type Status = "draft" | "published" | "archived";
type Actor = "anon" | "A" | "B" | "admin" | "guest";
type Author = "A" | "B";

type Operation =
  | { op: "create"; by: Author | "admin"; status: Status; title: string }
  | { op: "setStatus"; by: Actor; post: number; status: Status; ifMatch: "none" | "current" | "stale" }
  | { op: "setTitle"; by: Actor; post: number; title: string }
  | { op: "delete"; by: Actor; post: number }
  | { op: "rename"; who: Author; name: string; byAdmin: boolean }
  | { op: "deleteAuthor"; who: Author; byAdmin: boolean }
  /** An admin's status change racing anonymous reads of the same post (interleaved, not sequential). */
  | { op: "raceStatus"; post: number; status: Status; readers: number }
  | { op: "readPost"; by: Actor; post: number; ifNoneMatch: "none" | "current" | "stale" | "*"; twice: boolean }
  | { op: "readList"; by: Actor; status: Status | undefined; author: Author | "admin" | undefined; limit: number }
  | { op: "readAuthorPosts"; by: Actor; author: Author; status: Status | undefined; limit: number };

// ---------------------------------------------------------------------------------------------
// The model: every post this file ever made (storage is per file), and every author's name.

type ModelPost = {
  id: string;
  authorId: string;
  title: string;
  status: Status;
  createdAt: string;
  version: number;
  deleted: boolean;
};

const world = {
  posts: new Map<string, ModelPost>(),
  names: new Map<string, string>(),
  /** Deleted accounts: their posts went with them, their tokens answer 401. */
  deletedUsers: new Set<string>(),
};

type Caller = { kind: "anonymous" } | { kind: "user"; id: string; role: "user" | "admin" | "guest"; token: string };

const isGone = (caller: Caller) => caller.kind === "user" && world.deletedUsers.has(caller.id);

/** API.md §5: published posts, one's own in any status, everything for an admin; deleted for nobody. */
function mayView(caller: Caller, post: ModelPost): boolean {
  if (post.deleted) return false;
  if (post.status === "published") return true;
  return caller.kind === "user" && (caller.role === "admin" || caller.id === post.authorId);
}

/** Authors (user or admin role) edit their own posts, admins any. */
function mayEdit(caller: Caller, post: ModelPost): boolean {
  return caller.kind === "user" && (caller.role === "admin" || (caller.role === "user" && caller.id === post.authorId));
}

const newestFirst = (a: ModelPost, b: ModelPost) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : a.id > b.id ? -1 : 0) : a.createdAt < b.createdAt ? 1 : -1;

function expectedList(caller: Caller, filter: { status?: Status; authorId?: string }): ModelPost[] {
  return [...world.posts.values()]
    .filter((post) => mayView(caller, post))
    .filter((post) => filter.status === undefined || post.status === filter.status)
    .filter((post) => filter.authorId === undefined || post.authorId === filter.authorId)
    .sort(newestFirst);
}

function currentEtag(post: ModelPost): string {
  return postEtag({ post: { version: post.version }, authorName: world.names.get(post.authorId) ?? "" });
}

// ---------------------------------------------------------------------------------------------
// Calls: the real app with its real D1 and KV; cache fills (waitUntil) finish before the next call.

type PostJson = {
  id: string;
  title: string;
  status: Status;
  author: { id: string; name: string };
  created_at: string;
  version: number;
};
type Page = { data: PostJson[]; next_cursor: string | null };

async function call(
  path: string,
  caller: Caller,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (caller.kind === "user") headers.set("Authorization", `Bearer ${caller.token}`);
  let body: string | undefined;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers.set("Content-Type", "application/json");
  }
  return fetchSettled(new Request(`${BASE}${path}`, { method: init.method ?? "GET", headers, body }));
}

async function readJson<T>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

const cacheStatuses = new Map<string, number>();

/** The caching headers of a read: only anonymous reads of public data may be shared. */
function checkCacheHeaders(response: Response, caller: Caller, publicData: boolean, context: string): void {
  const xCache = response.headers.get("X-Cache") ?? "(none)";
  cacheStatuses.set(xCache, (cacheStatuses.get(xCache) ?? 0) + 1);
  expect(["HIT", "MISS", "BYPASS"], `X-Cache\n${context}`).toContain(xCache);
  const cacheControl = response.headers.get("Cache-Control") ?? "";
  if (caller.kind === "anonymous" && publicData) {
    expect(cacheControl, `Cache-Control\n${context}`).toMatch(/^public, max-age=\d+$/);
  } else {
    expect(cacheControl, `Cache-Control\n${context}`).toBe("private, no-store");
  }
}

function expectMatchesModel(item: PostJson, caller: Caller, context: string): void {
  const model = world.posts.get(item.id);
  expect(model, `a post the model never made\n${context}`).toBeDefined();
  if (!model) return;
  expect(
    mayView(caller, model),
    `shown a post the caller may not see (${model.status}${model.deleted ? ", deleted" : ""})\n${context}`,
  ).toBe(true);
  const expected = {
    title: model.title,
    status: model.status,
    author: { id: model.authorId, name: world.names.get(model.authorId) },
    created_at: model.createdAt,
    version: model.version,
  };
  const actual = {
    title: item.title,
    status: item.status,
    author: { id: item.author.id, name: item.author.name },
    created_at: item.created_at,
    version: item.version,
  };
  expect(actual, `post ${item.id} differs from the model (stale?)\n${context}`).toEqual(expected);
}

/** Walks a list and compares every page with the model's expectation, position by position. */
async function checkList(
  basePath: string,
  caller: Caller,
  query: Record<string, string | undefined>,
  expected: ModelPost[] | { status: 401 | 404 },
  complete: boolean,
  context: string,
): Promise<void> {
  const maxPages = complete ? MAX_AUTHOR_PAGES : MAX_GLOBAL_PAGES;
  if (!Array.isArray(expected)) {
    const params = new URLSearchParams(
      Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const response = await call(`${basePath}?${params}`, caller);
    expect(response.status, `${context}\n  GET ${basePath}?${params}`).toBe(expected.status);
    return;
  }
  const limit = Number(query.limit);
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...query, cursor })) if (value !== undefined) params.set(name, value);
    const pageContext = `${context}\n  page ${page}: GET ${basePath}?${params}`;
    const response = await call(`${basePath}?${params}`, caller);
    expect(response.status, pageContext).toBe(200);
    checkCacheHeaders(response, caller, true, pageContext);
    const body = await readJson<Page>(response);
    for (const item of body.data) expectMatchesModel(item, caller, pageContext);
    const want = expected.slice(page * limit, (page + 1) * limit).map((post) => post.id);
    expect(
      body.data.map((item) => item.id),
      `page ${page} holds exactly the visible posts, newest first\n${pageContext}`,
    ).toEqual(want);
    const more = expected.length > (page + 1) * limit;
    expect(body.next_cursor !== null, `next_cursor iff more visible posts\n${pageContext}`).toBe(more);
    if (!body.next_cursor) return;
    cursor = body.next_cursor;
  }
  if (complete) expect.fail(`the cursor walk did not end within ${maxPages} pages\n${context}`);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const accepted = (max: number) => (value: string) =>
  value.length >= 1 &&
  value.length <= max &&
  value.isWellFormed() &&
  !value.includes("\u0000") &&
  value.trim().length > 0;

const unicodeText = (max: number) =>
  fc
    .oneof(
      fc.string({ minLength: 1, maxLength: 20 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }),
      fc.string({ unit: "binary", minLength: 1, maxLength: 12 }),
      fc.constantFrom(
        "😀 post",
        "مرحبا",
        "e\u0301\u0301",
        "\u202eevil",
        "' OR 1=1 --",
        "; DROP TABLE users",
        "../../etc/passwd",
      ),
    )
    .map((text) => text.slice(0, max))
    .filter(accepted(max));

const actorArb = fc.constantFrom<Actor>("anon", "A", "B", "admin", "guest");
/** Readers lean anonymous: those are the reads the shared cache serves. */
const readerArb = fc.oneof({ weight: 3, arbitrary: fc.constant<Actor>("anon") }, { weight: 4, arbitrary: actorArb });
const authorArb = fc.constantFrom<Author>("A", "B");
const statusArb = fc.constantFrom<Status>("draft", "published", "archived");
const optionalStatus = fc.option(statusArb, { nil: undefined });
const limitArb = fc.integer({ min: 1, max: 4 });

const createArb: fc.Arbitrary<Operation> = fc.record({
  op: fc.constant("create" as const),
  by: fc.constantFrom<Author | "admin">("A", "A", "B", "B", "admin"),
  status: statusArb,
  title: unicodeText(200),
});

const operationArb: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 4, arbitrary: createArb },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("setStatus" as const),
      by: fc.oneof({ weight: 3, arbitrary: authorArb }, { weight: 2, arbitrary: actorArb }),
      post: fc.nat(),
      status: statusArb,
      ifMatch: fc.constantFrom("none", "none", "current", "stale"),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("setTitle" as const),
      by: fc.oneof({ weight: 3, arbitrary: authorArb }, { weight: 2, arbitrary: actorArb }),
      post: fc.nat(),
      title: unicodeText(200),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("delete" as const), by: actorArb, post: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("rename" as const),
      who: authorArb,
      name: unicodeText(100),
      byAdmin: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("deleteAuthor" as const), who: authorArb, byAdmin: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("raceStatus" as const),
      post: fc.nat(),
      status: statusArb,
      readers: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant("readPost" as const),
      by: readerArb,
      post: fc.nat(),
      ifNoneMatch: fc.constantFrom("none", "none", "current", "stale", "*"),
      twice: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("readList" as const),
      by: readerArb,
      status: optionalStatus,
      author: fc.option(fc.constantFrom<Author | "admin">("A", "B", "admin"), { nil: undefined }),
      limit: limitArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("readAuthorPosts" as const),
      by: readerArb,
      author: authorArb,
      status: optionalStatus,
      limit: limitArb,
    }),
  },
);

const scenarioArb = fc.record({
  nameA: unicodeText(100),
  nameB: unicodeText(100),
  // A run starts with a post, so operations on "a post of this run" have something to act on.
  operations: fc
    .tuple(createArb, fc.array(operationArb, { minLength: 4, maxLength: MAX_OPERATIONS - 1, size: "max" }))
    .map(([first, rest]) => [first, ...rest]),
});

// ---------------------------------------------------------------------------------------------

describe(`read cache never leaks or serves stale posts (seed ${SEED})`, () => {
  let admin: Session | undefined;
  let guest: Session | undefined;

  beforeAll(async () => {
    admin = await createAdmin();
    guest = await withRole(await createUser({ name: "Guest" }), "guest");
    world.names.set(admin.id, "Admin");
    world.names.set(guest.id, "Guest");
  });

  it(
    `matches the visibility model over ${RUNS} random operation sequences (seed ${SEED})`,
    async () => {
      const adminSession = admin;
      const guestSession = guest;
      if (!adminSession || !guestSession) throw new Error("beforeAll did not run");
      const adminCaller: Caller = {
        kind: "user",
        id: adminSession.id,
        role: "admin",
        token: adminSession.access_token,
      };
      const guestCaller: Caller = {
        kind: "user",
        id: guestSession.id,
        role: "guest",
        token: guestSession.access_token,
      };
      let operationsRun = 0;

      await fc.assert(
        fc.asyncProperty(scenarioArb, async ({ nameA, nameB, operations }) => {
          // Fresh authors per run, so author filters see only this run's posts.
          const sessionA = await createUser({ name: nameA });
          const sessionB = await createUser({ name: nameB });
          world.names.set(sessionA.id, nameA);
          world.names.set(sessionB.id, nameB);
          const callers: Record<Actor, Caller> = {
            anon: { kind: "anonymous" },
            A: { kind: "user", id: sessionA.id, role: "user", token: sessionA.access_token },
            B: { kind: "user", id: sessionB.id, role: "user", token: sessionB.access_token },
            admin: adminCaller,
            guest: guestCaller,
          };
          const authorIds: Record<Author | "admin", string> = {
            A: sessionA.id,
            B: sessionB.id,
            admin: adminSession.id,
          };
          const runPosts: string[] = [];
          const pick = (index: number): ModelPost | undefined => {
            const id = runPosts[index % Math.max(1, runPosts.length)];
            return id === undefined ? undefined : world.posts.get(id);
          };

          for (const [step, operation] of operations.entries()) {
            operationsRun += 1;
            const context = `step ${step}: ${JSON.stringify(operation)}`;
            switch (operation.op) {
              case "create": {
                const caller = callers[operation.by];
                const response = await call("/v1/posts", caller, {
                  method: "POST",
                  body: { title: operation.title, content: "Body", status: operation.status },
                });
                const body = await readJson<PostJson>(response);
                if (response.status === 201) {
                  world.posts.set(body.id, {
                    id: body.id,
                    authorId: body.author.id,
                    title: body.title,
                    status: body.status,
                    createdAt: body.created_at,
                    version: body.version,
                    deleted: false,
                  });
                  runPosts.push(body.id);
                }
                if (isGone(caller)) {
                  expect(response.status, context).toBe(401);
                  break;
                }
                expect(response.status, context).toBe(201);
                expect(body.author.id, context).toBe(authorIds[operation.by]);
                expectMatchesModel(body, caller, context);
                expect(body.title, context).toBe(operation.title);
                break;
              }
              case "setStatus":
              case "setTitle": {
                const post = pick(operation.post);
                if (!post) break;
                const caller = callers[operation.by];
                const headers: Record<string, string> = {};
                const ifMatch = operation.op === "setStatus" ? operation.ifMatch : "none";
                if (ifMatch === "current") headers["If-Match"] = currentEtag(post);
                if (ifMatch === "stale")
                  headers["If-Match"] = postEtag({ post: { version: post.version + 7 }, authorName: "x" });
                const change = operation.op === "setStatus" ? { status: operation.status } : { title: operation.title };
                const response = await call(`/v1/posts/${post.id}`, caller, { method: "PATCH", body: change, headers });
                const body = await readJson<PostJson>(response);
                if (response.status === 200) {
                  world.posts.set(post.id, { ...post, title: body.title, status: body.status, version: body.version });
                }
                const expected =
                  caller.kind === "anonymous" || isGone(caller)
                    ? 401
                    : !mayView(caller, post)
                      ? 404
                      : !mayEdit(caller, post)
                        ? 403
                        : ifMatch === "stale"
                          ? 412
                          : 200;
                expect(response.status, `${context}\n  model: ${JSON.stringify(post)}`).toBe(expected);
                if (expected === 200) {
                  expect(body.version, context).toBe(post.version + 1);
                  expectMatchesModel(body, caller, context);
                }
                break;
              }
              case "delete": {
                const post = pick(operation.post);
                if (!post) break;
                const caller = callers[operation.by];
                const response = await call(`/v1/posts/${post.id}`, caller, { method: "DELETE" });
                if (response.status === 204) world.posts.set(post.id, { ...post, deleted: true });
                const expected =
                  caller.kind === "anonymous" || isGone(caller)
                    ? 401
                    : !mayView(caller, post)
                      ? 404
                      : caller.role !== "admin"
                        ? 403
                        : 204;
                expect(response.status, `${context}\n  model: ${JSON.stringify(post)}`).toBe(expected);
                break;
              }
              case "rename": {
                const target = callers[operation.who];
                const response = operation.byAdmin
                  ? await call(`/v1/users/${authorIds[operation.who]}`, adminCaller, {
                      method: "PATCH",
                      body: { name: operation.name },
                    })
                  : await call("/v1/users/me", target, { method: "PATCH", body: { name: operation.name } });
                const body = await readJson<{ name: string }>(response);
                if (response.status === 200) world.names.set(authorIds[operation.who], body.name);
                if (world.deletedUsers.has(authorIds[operation.who])) {
                  expect(response.status, context).toBe(operation.byAdmin ? 404 : 401);
                  break;
                }
                expect(response.status, context).toBe(200);
                expect(body.name, context).toBe(operation.name);
                break;
              }
              case "deleteAuthor": {
                const id = authorIds[operation.who];
                const response = operation.byAdmin
                  ? await call(`/v1/users/${id}`, adminCaller, { method: "DELETE" })
                  : await call("/v1/users/me", callers[operation.who], { method: "DELETE" });
                const wasGone = world.deletedUsers.has(id);
                if (response.status === 204) {
                  world.deletedUsers.add(id);
                  for (const post of world.posts.values()) {
                    if (post.authorId === id) world.posts.set(post.id, { ...post, deleted: true });
                  }
                }
                expect(response.status, context).toBe(wasGone ? (operation.byAdmin ? 404 : 401) : 204);
                break;
              }
              case "raceStatus": {
                const post = pick(operation.post);
                if (!post) break;
                const anonymous = callers.anon;
                const [write, ...reads] = await Promise.all([
                  call(`/v1/posts/${post.id}`, adminCaller, { method: "PATCH", body: { status: operation.status } }),
                  ...Array.from({ length: operation.readers }, () => call(`/v1/posts/${post.id}`, anonymous)),
                ]);
                const written = await readJson<PostJson>(write);
                const after =
                  write.status === 200 ? { ...post, status: written.status, version: written.version } : post;
                world.posts.set(post.id, after);
                expect(write.status, context).toBe(post.deleted ? 404 : 200);
                // A read racing the write may show the post before or after it, never anything else.
                for (const read of reads) {
                  const states = [post, after].filter((state) => mayView(anonymous, state));
                  if (read.status === 404) {
                    expect(states.length < 2, `racing read 404 though visible before and after\n${context}`).toBe(true);
                    continue;
                  }
                  expect(read.status, context).toBe(200);
                  const body = await readJson<PostJson>(read);
                  const shown = { status: body.status, version: body.version, title: body.title };
                  expect(
                    states.map((state) => ({ status: state.status, version: state.version, title: state.title })),
                    `racing read shows a state the post never had visibly\n${context}`,
                  ).toContainEqual(shown);
                }
                break;
              }
              case "readPost": {
                const post = pick(operation.post);
                if (!post) break;
                const caller = callers[operation.by];
                const visible = mayView(caller, post);
                if (isGone(caller)) {
                  expect((await call(`/v1/posts/${post.id}`, caller)).status, context).toBe(401);
                  break;
                }
                for (let round = 0; round < (operation.twice ? 2 : 1); round++) {
                  const headers: Record<string, string> = {};
                  if (operation.ifNoneMatch === "current") headers["If-None-Match"] = currentEtag(post);
                  if (operation.ifNoneMatch === "stale") headers["If-None-Match"] = `"${post.version + 7}-x"`;
                  if (operation.ifNoneMatch === "*") headers["If-None-Match"] = "*";
                  const response = await call(`/v1/posts/${post.id}`, caller, { headers });
                  const readContext = `${context} (round ${round})\n  model: ${JSON.stringify(post)}`;
                  const notModified = operation.ifNoneMatch === "current" || operation.ifNoneMatch === "*";
                  const expected = !visible ? 404 : notModified ? 304 : 200;
                  expect(response.status, `read status\n${readContext}`).toBe(expected);
                  if (response.status === 404) {
                    const error = await readJson<{ type: string }>(response);
                    expect(error.type, readContext).toBe("NotFoundError");
                    continue;
                  }
                  checkCacheHeaders(response, caller, post.status === "published", readContext);
                  expect(response.headers.get("ETag"), `ETag is current\n${readContext}`).toBe(currentEtag(post));
                  if (response.status === 200)
                    expectMatchesModel(await readJson<PostJson>(response), caller, readContext);
                }
                break;
              }
              case "readList": {
                const caller = callers[operation.by];
                const authorId = operation.author === undefined ? undefined : authorIds[operation.author];
                const expected = isGone(caller)
                  ? { status: 401 as const }
                  : expectedList(caller, { status: operation.status, authorId });
                const perRunAuthor = operation.author === "A" || operation.author === "B";
                await checkList(
                  "/v1/posts",
                  caller,
                  { status: operation.status, author_id: authorId, limit: String(operation.limit) },
                  expected,
                  perRunAuthor,
                  context,
                );
                break;
              }
              case "readAuthorPosts": {
                const caller = callers[operation.by];
                const authorId = authorIds[operation.author];
                await checkList(
                  `/v1/users/${authorId}/posts`,
                  caller,
                  { status: operation.status, limit: String(operation.limit) },
                  isGone(caller)
                    ? { status: 401 }
                    : world.deletedUsers.has(authorId)
                      ? { status: 404 }
                      : expectedList(caller, { status: operation.status, authorId }),
                  true,
                  context,
                );
                break;
              }
            }
          }
        }),
        { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS, markInterruptAsFailure: true },
      );

      expect(operationsRun).toBeGreaterThan(RUNS);
      // The property only means something if reads were actually served from the cache.
      expect(cacheStatuses.get("HIT") ?? 0, JSON.stringify([...cacheStatuses])).toBeGreaterThan(0);
      expect(cacheStatuses.get("MISS") ?? 0, JSON.stringify([...cacheStatuses])).toBeGreaterThan(0);
      expect(cacheStatuses.get("BYPASS") ?? 0, JSON.stringify([...cacheStatuses])).toBeGreaterThan(0);
    },
    PROPERTY_TIMEOUT_MS,
  );
});
