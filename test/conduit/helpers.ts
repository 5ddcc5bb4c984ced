import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { signAccessToken } from "../../src/auth/access-token";
import { loadSettings } from "../../src/config";
import { api, BASE, fetchSettled, json, type Role, setRoleInD1 } from "../helpers";

/** Times on /api are ISO-8601 UTC with milliseconds. */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Keys of an item of `{articles}`: the single-article shape without `body`. */
export const LIST_ITEM_KEYS = [
  "author",
  "createdAt",
  "description",
  "favorited",
  "favoritesCount",
  "slug",
  "tagList",
  "title",
  "updatedAt",
];

export type Profile = { username: string; bio: string | null; image: string | null; following: boolean };
export type Article = {
  slug: string;
  title: string;
  description: string;
  body: string;
  tagList: string[];
  createdAt: string;
  updatedAt: string;
  favorited: boolean;
  favoritesCount: number;
  author: Profile;
};
export type ArticleItem = Omit<Article, "body">;
export type ArticlePage = { articles: ArticleItem[]; articlesCount: number };
export type Comment = { id: number; createdAt: string; updatedAt: string; body: string; author: Profile };
export type UserJson = { email: string; token: string; username: string; bio: string | null; image: string | null };

export type ConduitInit = Omit<RequestInit, "body"> & {
  body?: unknown;
  token?: string | undefined;
  /** `Token` is the RealWorld scheme; /api also takes `Bearer`. */
  scheme?: "Token" | "Bearer";
};

function headersFor(init: ConduitInit): Headers {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set("Authorization", `${init.scheme ?? "Token"} ${init.token}`);
  return headers;
}

/** Calls `/api${path}` in-process; `token` becomes `Authorization: Token <jwt>`. */
export function conduit(path: string, init: ConduitInit = {}): Promise<Response> {
  const { token: _token, scheme: _scheme, headers: _headers, ...rest } = init;
  return api(`/api${path}`, { ...rest, headers: headersFor(init) });
}

/**
 * Like `conduit`, but runs the app with its own execution context and waits for its `waitUntil`
 * work (cache fills), so the next call sees what this one stored. `overrides` swaps bindings.
 */
export async function conduitSettled(
  path: string,
  init: ConduitInit = {},
  overrides: Partial<Cloudflare.Env> = {},
): Promise<Response> {
  const { token: _token, scheme: _scheme, headers: _headers, body, ...rest } = init;
  const headers = headersFor(init);
  let payload: BodyInit | undefined;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  return fetchSettled(new Request(`${BASE}/api${path}`, { ...rest, headers, body: payload }), overrides);
}

/**
 * Asserts the Conduit error shape — exactly `{"errors":{"body":[...]}}` with non-empty string
 * messages, never the /v1 envelope — plus the status, `X-Request-Id` and, for 401,
 * `WWW-Authenticate: Token`. Returns the messages.
 */
export async function errorsOf(response: Response, status: number): Promise<string[]> {
  expect(response.status, `status of ${response.url}`).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(response.headers.get("X-Request-Id")).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  if (status === 401) expect(response.headers.get("WWW-Authenticate")).toMatch(/^Token\b/);
  const body = await json<{ errors: { body: unknown[] } }>(response);
  expect(Object.keys(body)).toEqual(["errors"]);
  expect(Object.keys(body.errors)).toEqual(["body"]);
  const messages = body.errors.body;
  expect(Array.isArray(messages)).toBe(true);
  expect(messages.length).toBeGreaterThan(0);
  for (const message of messages) {
    expect(typeof message).toBe("string");
    expect((message as string).length).toBeGreaterThan(0);
  }
  return messages as string[];
}

/**
 * A 422 whose messages are `"<path> <message>"`, one per issue, naming exactly these paths.
 * Returns the messages.
 */
export async function expectIssues(response: Response, paths: string[]): Promise<string[]> {
  const messages = await errorsOf(response, 422);
  for (const message of messages) expect(message).toMatch(/^\S+ \S/);
  const named = [...new Set(messages.map((message) => message.slice(0, message.indexOf(" "))))].sort();
  expect(named).toEqual([...new Set(paths)].sort());
  return messages;
}

let counter = 0;
function nextSuffix(): string {
  counter += 1;
  return `${counter}${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh username (`[A-Za-z0-9_.-]`, at most 40 characters). */
export function uniqueUsername(prefix = "user"): string {
  return `${prefix.slice(0, 20)}_${nextSuffix()}`;
}

/** A fresh email address. */
export function uniqueConduitEmail(prefix = "conduit"): string {
  return `${prefix}-${Date.now()}-${nextSuffix()}@example.com`;
}

/** A fresh tag (at most 40 characters). */
export function uniqueTag(prefix = "tag"): string {
  return `${prefix.slice(0, 20)}-${nextSuffix()}`;
}

export type ConduitUser = { token: string; username: string; email: string; password: string; id: string };

/** Registers through POST /api/users (201 asserted); `id` is read from D1. */
export async function registerConduitUser(
  opts: { username?: string; email?: string; password?: string } = {},
): Promise<ConduitUser> {
  const username = opts.username ?? uniqueUsername();
  const email = opts.email ?? uniqueConduitEmail();
  const password = opts.password ?? "correct horse battery";
  const response = await conduit("/users", { method: "POST", body: { user: { username, email, password } } });
  expect(response.status).toBe(201);
  const { user } = await json<{ user: UserJson }>(response);
  const row = await env.DB.prepare("select id from users where email = ?").bind(email).first<{ id: string }>();
  expect(row).not.toBeNull();
  return { token: user.token, username: user.username, email, password, id: row?.id ?? "" };
}

export function loginConduit(email: string, password: string): Promise<Response> {
  return conduit("/users/login", { method: "POST", body: { user: { email, password } } });
}

/** `setRoleInD1`, then a fresh login through /api so the returned token carries the role. */
export async function setConduitRole(user: ConduitUser, role: Role): Promise<ConduitUser> {
  await setRoleInD1(user.id, role);
  const response = await loginConduit(user.email, user.password);
  expect(response.status).toBe(200);
  const body = await json<{ user: UserJson }>(response);
  return { ...user, token: body.user.token };
}

export async function registerConduitAdmin(): Promise<ConduitUser> {
  return setConduitRole(await registerConduitUser({ username: uniqueUsername("admin") }), "admin");
}

export type NewArticle = { title?: string; description?: string; body?: string; tagList?: string[] };

/** Creates an article through POST /api/articles (201 asserted). */
export async function createArticle(token: string, fields: NewArticle = {}): Promise<Article> {
  const response = await conduit("/articles", {
    method: "POST",
    token,
    body: {
      article: {
        title: fields.title ?? "An article",
        description: fields.description ?? "What it is about",
        body: fields.body ?? "The body of the article",
        ...(fields.tagList ? { tagList: fields.tagList } : {}),
      },
    },
  });
  expect(response.status).toBe(201);
  return (await json<{ article: Article }>(response)).article;
}

/** Reads an article (200 asserted). */
export async function readArticle(slug: string, token?: string): Promise<Article> {
  const response = await conduit(`/articles/${slug}`, { token });
  expect(response.status).toBe(200);
  return (await json<{ article: Article }>(response)).article;
}

/** Reads a list page (200 asserted); `query` is the search string without `?`. */
export async function listArticles(query: string, token?: string): Promise<ArticlePage> {
  const response = await conduit(`/articles?${query}`, { token });
  expect(response.status).toBe(200);
  return json<ArticlePage>(response);
}

export async function follow(token: string, username: string): Promise<void> {
  const response = await conduit(`/profiles/${username}/follow`, { method: "POST", token });
  expect(response.status).toBe(200);
}

export async function favorite(token: string, slug: string): Promise<Article> {
  const response = await conduit(`/articles/${slug}/favorite`, { method: "POST", token });
  expect(response.status).toBe(200);
  return (await json<{ article: Article }>(response)).article;
}

export async function addComment(token: string, slug: string, body = "A comment"): Promise<Comment> {
  const response = await conduit(`/articles/${slug}/comments`, { method: "POST", token, body: { comment: { body } } });
  expect(response.status).toBe(200);
  return (await json<{ comment: Comment }>(response)).comment;
}

/** The public profile of a user as an anonymous caller sees it. */
export function profileOf(user: { username: string }, extra: Partial<Profile> = {}): Profile {
  return { username: user.username, bio: null, image: null, following: false, ...extra };
}

/** The D1 row behind an article. */
export async function postRow(
  slug: string,
): Promise<{ id: string; status: string; title: string; content: string; author_id: string } | null> {
  return env.DB.prepare("select id, status, title, content, author_id from posts where slug = ?").bind(slug).first();
}

/** A correctly signed access token for the user, from a password sign-in `agoSeconds` in the past. */
export async function tokenIssuedAgo(user: { id: string }, agoSeconds: number): Promise<string> {
  const settings = await loadSettings(env);
  if (!settings.ok) throw new Error("test settings are invalid");
  const issuedAtMs = Date.now() - agoSeconds * 1000;
  const subject = { id: user.id, role: "user" as const, authTimeMs: issuedAtMs, sessionVersion: 0 };
  return signAccessToken(settings.settings, subject, "conduit", issuedAtMs);
}

/** Lets the clock move on (workerd's clock only advances across I/O and timers). */
export function pause(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
