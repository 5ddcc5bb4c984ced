import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { loadSettings } from "../src/config";
import { issueBookmark } from "../src/db/issued-bookmark";
import { BOOKMARK_HEADER, chooseSession } from "../src/db/session";
import { api, BASE, createPost, createUser, expectError, json } from "./helpers";

const BOOKMARK = "00000001-00000002-00004e6f-0d23ca1a6e0a6c6e5f9f2c5b7b5d4c3e";

/** BOOKMARK as this service hands it out (only those are trusted, db/issued-bookmark.ts). */
async function issued(bookmark = BOOKMARK): Promise<string> {
  const settings = await loadSettings(env);
  if (!settings.ok) throw new Error("test settings are invalid");
  return issueBookmark(settings.settings.jwtKey, bookmark);
}

describe("chooseSession", () => {
  it.each([
    ["GET", undefined, { kind: "constraint", constraint: "first-unconstrained" }],
    ["HEAD", undefined, { kind: "constraint", constraint: "first-unconstrained" }],
    ["GET", BOOKMARK, { kind: "bookmark", bookmark: BOOKMARK }],
    ["POST", undefined, { kind: "constraint", constraint: "first-primary" }],
    ["PATCH", BOOKMARK, { kind: "constraint", constraint: "first-primary" }],
    ["DELETE", undefined, { kind: "constraint", constraint: "first-primary" }],
  ])("%s with bookmark %s", (method, bookmark, choice) => {
    expect(chooseSession(method, bookmark)).toEqual({ ok: true, choice });
  });

  it.each(["garbage", "", "0000-0000", `${BOOKMARK}x`, BOOKMARK.toUpperCase(), `${BOOKMARK}\n`])(
    "refuses a malformed bookmark %j",
    (bookmark) => {
      expect(chooseSession("GET", bookmark).ok).toBe(false);
    },
  );

  it("every route's method maps to the constraint its kind of work needs", () => {
    for (const route of app.routes) {
      if (route.method === "ALL") continue;
      const decision = chooseSession(route.method, undefined);
      const expected = route.method === "GET" ? "first-unconstrained" : "first-primary";
      expect(decision, `${route.method} ${route.path}`).toEqual({
        ok: true,
        choice: { kind: "constraint", constraint: expected },
      });
    }
  });
});

describe("sessions in requests", () => {
  /** The real D1, recording which constraint or bookmark each request opened its session with. */
  function recordingD1() {
    const opened: (string | undefined)[] = [];
    const db = new Proxy(env.DB, {
      get(target, property) {
        if (property === "withSession") {
          return (constraint?: string) => {
            opened.push(constraint);
            return target.withSession(constraint);
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return { db, opened };
  }

  it("reads start unconstrained, writes on the primary, bookmarks are honoured", async () => {
    const author = await createUser();
    const { db, opened } = recordingD1();
    const send = (path: string, init: RequestInit = {}) =>
      app.fetch(new Request(`${BASE}${path}`, init), { ...env, DB: db }, createExecutionContext());
    const auth = { Authorization: `Bearer ${author.access_token}` };
    await send("/v1/users/me", { headers: auth });
    await send("/v1/posts", {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "t", content: "c" }),
    });
    await send("/v1/users/me", { headers: { ...auth, [BOOKMARK_HEADER]: await issued() } });
    // The create opens a second primary session: its generation bump reads the primary's
    // newest bookmark (src/cache/public-cache.ts).
    expect(opened).toEqual(["first-unconstrained", "first-primary", "first-primary", BOOKMARK]);
  });

  it("a write returns a bookmark, and a read with it sees the write", async () => {
    const author = await createUser();
    const created = await api("/v1/posts", {
      method: "POST",
      token: author.access_token,
      body: { title: "Read your writes", content: "c" },
    });
    const bookmark = created.headers.get(BOOKMARK_HEADER);
    expect(bookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32,64}\.[A-Za-z0-9_-]{22}$/);
    const { id } = await json<{ id: string }>(created);
    const read = await api(`/v1/posts/${id}`, {
      token: author.access_token,
      headers: { [BOOKMARK_HEADER]: bookmark ?? "" },
    });
    expect(read.status).toBe(200);
    expect((await json<{ title: string }>(read)).title).toBe("Read your writes");
    expect(read.headers.get(BOOKMARK_HEADER)).toBeTruthy();
  });

  it("a malformed bookmark is a 400, not a 500", async () => {
    const response = await api("/v1/posts", { headers: { [BOOKMARK_HEADER]: "not-a-bookmark" } });
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({
      issues: [{ path: BOOKMARK_HEADER, message: "must be a bookmark returned by this API" }],
    });
  });

  it("a cache hit hands the client's bookmark back", async () => {
    const author = await createUser();
    const post = await createPost(author.access_token, { status: "published" });
    await api(`/v1/posts/${post.id}`);
    // Fills happen in waitUntil; read until the entry is there.
    const mine = await issued();
    let response = await api(`/v1/posts/${post.id}`, { headers: { [BOOKMARK_HEADER]: mine } });
    for (let i = 0; i < 5 && response.headers.get("X-Cache") !== "HIT"; i++) {
      response = await api(`/v1/posts/${post.id}`, { headers: { [BOOKMARK_HEADER]: mine } });
    }
    expect(response.headers.get("X-Cache")).toBe("HIT");
    expect(response.headers.get(BOOKMARK_HEADER)).toBe(mine);
  });
});
