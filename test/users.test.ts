import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  api,
  createAdmin,
  createPost,
  createUser,
  expectError,
  expectIssues as expectValidationIssues,
  json,
  login,
  type Session,
  uniqueEmail,
  withRole,
} from "./helpers";

type UserJson = {
  id: string;
  email: string;
  name: string;
  role: "admin" | "user" | "guest";
  is_active: boolean;
  email_verified: boolean;
  created_at: string;
  updated_at: string;
};
type PostJson = { id: string; status: string; author: { id: string; name: string } };
type Page<T> = { data: T[]; next_cursor: string | null };

const USER_KEYS = ["created_at", "email", "email_verified", "id", "is_active", "name", "role", "updated_at"];
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A user object has exactly the contract's eight keys, never a hash. */
function expectUserJson(value: unknown): asserts value is UserJson {
  expect(value).toBeTypeOf("object");
  const user = value as Record<string, unknown>;
  expect(Object.keys(user).sort()).toEqual(USER_KEYS);
  expect(user.id).toBeTypeOf("string");
  expect(user.email).toBeTypeOf("string");
  expect(user.name).toBeTypeOf("string");
  expect(["admin", "user", "guest"]).toContain(user.role);
  expect(user.is_active).toBeTypeOf("boolean");
  expect(user.email_verified).toBeTypeOf("boolean");
  expect(user.created_at).toMatch(ISO_UTC);
  expect(user.updated_at).toMatch(ISO_UTC);
}

/** A 401 carries the envelope and a Bearer challenge. */
async function expectUnauthenticated(response: Response): Promise<void> {
  const body = await expectError(response, 401, "AuthenticationError");
  expect(body.details).toEqual({});
  expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
}

async function expectForbidden(response: Response): Promise<void> {
  const body = await expectError(response, 403, "PermissionError");
  expect(body.details).toEqual({});
}

async function expectUserNotFound(response: Response, id: string): Promise<void> {
  const body = await expectError(response, 404, "NotFoundError");
  expect(body.details).toEqual({ resource: "user", id });
  expect(body.error).toBe(`User with id ${id} not found`);
}

async function expectLastAdminConflict(response: Response): Promise<void> {
  const body = await expectError(response, 409, "ConflictError");
  expect(body.details).toEqual({ reason: "last_admin" });
}

/** The shared 400 check, and exactly one issue per named path. */
async function expectIssues(response: Response, paths: string[]): Promise<void> {
  const issues = await expectValidationIssues(response, paths);
  expect(issues.map((issue) => issue.path).sort()).toEqual([...paths].sort());
  for (const issue of issues) expect(issue.message).toBeTypeOf("string");
}

async function listUsers(token: string, query: string): Promise<Page<UserJson>> {
  const response = await api(`/v1/users${query}`, { token });
  expect(response.status).toBe(200);
  const page = await json<Page<UserJson>>(response);
  for (const user of page.data) expectUserJson(user);
  return page;
}

/** Follows `next_cursor` to the end; `between` runs after the first page. */
async function walkUsers(token: string, query: string, between?: () => Promise<void>): Promise<UserJson[]> {
  const seen: UserJson[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const separator = query ? "&" : "?";
    const suffix = cursor === null ? "" : `${separator}cursor=${encodeURIComponent(cursor)}`;
    const result: Page<UserJson> = await listUsers(token, `${query}${suffix}`);
    seen.push(...result.data);
    if (page === 0 && between) await between();
    if (result.next_cursor === null) return seen;
    cursor = result.next_cursor;
  }
  throw new Error("pagination did not end");
}

/** Newest first: `(created_at DESC, id DESC)`. */
function expectNewestFirst(users: UserJson[]): void {
  for (let i = 1; i < users.length; i++) {
    const before = users[i - 1];
    const after = users[i];
    if (!before || !after) continue;
    const ordered =
      before.created_at > after.created_at || (before.created_at === after.created_at && before.id > after.id);
    expect(ordered).toBe(true);
  }
}

/** An email prefix nobody else in this file uses. */
function uniquePrefix(label: string): string {
  return `${label}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

async function dbUser(id: string): Promise<{ role: string; is_active: number; name: string } | null> {
  return env.DB.prepare("select role, is_active, name from users where id = ?")
    .bind(id)
    .first<{ role: string; is_active: number; name: string }>();
}

async function countPostsOf(authorId: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from posts where author_id = ?")
    .bind(authorId)
    .first<{ n: number }>();
  return row?.n ?? -1;
}

/**
 * Tests in this file share one database, so other tests' admins may exist. This demotes every
 * admin except `keep` directly in D1, leaving exactly the listed ones.
 */
async function onlyTheseAdmins(...keep: Session[]): Promise<void> {
  const ids = keep.map((session) => session.id);
  const placeholders = ids.map(() => "?").join(", ");
  await env.DB.prepare(`update users set role = 'user' where role = 'admin' and id not in (${placeholders})`)
    .bind(...ids)
    .run();
  const row = await env.DB.prepare("select count(*) as n from users where role = 'admin' and is_active = 1").first<{
    n: number;
  }>();
  expect(row?.n).toBe(ids.length);
}

/** Reads a public post anonymously until the read cache serves it (the fill runs after the response). */
async function warmPublicPost(id: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await api(`/v1/posts/${id}`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    if (response.headers.get("X-Cache") === "HIT") return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`post ${id} never reached the read cache`);
}

describe("GET /v1/users/me", () => {
  it("returns the caller as exactly the eight user fields", async () => {
    const session = await createUser({ name: "Me Myself" });
    const response = await api("/v1/users/me", { token: session.access_token });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain("password");
    expect(text).not.toContain("pbkdf2");
    const me: unknown = JSON.parse(text);
    expectUserJson(me);
    expect(me).toEqual(session.user);
    expect(me).toMatchObject({
      id: session.id,
      email: session.email,
      name: "Me Myself",
      role: "user",
      is_active: true,
      email_verified: false,
    });
  });

  it("401s without a token or with a broken one", async () => {
    await expectUnauthenticated(await api("/v1/users/me"));
    await expectUnauthenticated(await api("/v1/users/me", { token: "not-a-jwt" }));
  });

  it("401s the token of a deactivated user", async () => {
    const admin = await createAdmin();
    const target = await createUser();
    const off = await api(`/v1/users/${target.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { is_active: false },
    });
    expect(off.status).toBe(200);
    await expectUnauthenticated(await api("/v1/users/me", { token: target.access_token }));
  });
});

describe("PATCH /v1/users/me", () => {
  it("renames the caller and keeps the change", async () => {
    const session = await createUser({ name: "Old Name" });
    const response = await api("/v1/users/me", {
      method: "PATCH",
      token: session.access_token,
      body: { name: "New Name" },
    });
    expect(response.status).toBe(200);
    const user = await json(response);
    expectUserJson(user);
    expect(user).toMatchObject({ id: session.id, email: session.email, name: "New Name", role: "user" });
    const again = await json(await api("/v1/users/me", { token: session.access_token }));
    expect(again).toMatchObject({ name: "New Name" });
    expect((await dbUser(session.id))?.name).toBe("New Name");
  });

  it("shows a rename on the author's published posts at once, even ones read before", async () => {
    const session = await createUser({ name: "Before Rename" });
    const post = await createPost(session.access_token, { status: "published" });
    await warmPublicPost(post.id);
    const renamed = await api("/v1/users/me", {
      method: "PATCH",
      token: session.access_token,
      body: { name: "After Rename" },
    });
    expect(renamed.status).toBe(200);
    const read = await json<PostJson>(await api(`/v1/posts/${post.id}`));
    expect(read.author).toEqual({ id: session.id, name: "After Rename" });
  });

  it("changes the password with the right current one and ends every session", async () => {
    const session = await createUser({ password: "first password 1" });
    const response = await api("/v1/users/me", {
      method: "PATCH",
      token: session.access_token,
      body: { password: "second password 2", current_password: "first password 1" },
    });
    expect(response.status).toBe(200);
    expectUserJson(await json(response));

    await expectError(await login(session.email, "first password 1"), 401, "AuthenticationError");
    const fresh = await login(session.email, "second password 2");
    expect(fresh.status).toBe(200);
    const { access_token } = await json<{ access_token: string }>(fresh);

    // Old refresh and access tokens stop working; the new login's token works.
    await expectUnauthenticated(
      await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: session.refresh_token } }),
    );
    await expectUnauthenticated(await api("/v1/users/me", { token: session.access_token }));
    expect((await api("/v1/users/me", { token: access_token })).status).toBe(200);
  });

  it("401s a wrong current_password and keeps the old password", async () => {
    const session = await createUser({ password: "the real password" });
    const response = await api("/v1/users/me", {
      method: "PATCH",
      token: session.access_token,
      body: { password: "attacker password", current_password: "a wrong guess" },
    });
    await expectUnauthenticated(response);
    expect((await login(session.email, "the real password")).status).toBe(200);
    await expectError(await login(session.email, "attacker password"), 401, "AuthenticationError");
    expect((await api("/v1/users/me", { token: session.access_token })).status).toBe(200);
  });

  it("400s a new password without current_password", async () => {
    const session = await createUser({ password: "the real password" });
    const response = await api("/v1/users/me", {
      method: "PATCH",
      token: session.access_token,
      body: { password: "another password" },
    });
    await expectIssues(response, ["current_password"]);
    expect((await login(session.email, "the real password")).status).toBe(200);
  });

  it("400s invalid values and names unknown fields", async () => {
    const session = await createUser();
    const patch = (body: unknown) => api("/v1/users/me", { method: "PATCH", token: session.access_token, body });
    await expectIssues(await patch({ name: "" }), ["name"]);
    await expectIssues(await patch({ name: "   " }), ["name"]);
    await expectIssues(await patch({ password: "short", current_password: session.password }), ["password"]);
    const role = await expectError(await patch({ role: "admin" }), 400, "ValidationError");
    expect(role.details).toEqual({ issues: [{ path: "role", message: "Unknown field" }] });
    const email = await expectError(await patch({ email: "new@example.com" }), 400, "ValidationError");
    expect(email.details).toEqual({ issues: [{ path: "email", message: "Unknown field" }] });
    const stored = await dbUser(session.id);
    expect(stored).toEqual({ role: "user", is_active: 1, name: "Test User" });
  });

  it("401s anonymous callers", async () => {
    await expectUnauthenticated(await api("/v1/users/me", { method: "PATCH", body: { name: "Nobody" } }));
  });
});

describe("DELETE /v1/users/me", () => {
  it("deletes the account and its posts; the credentials stop working", async () => {
    const session = await createUser();
    const published = await createPost(session.access_token, { status: "published" });
    const draft = await createPost(session.access_token, { status: "draft" });
    const response = await api("/v1/users/me", { method: "DELETE", token: session.access_token });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");

    await expectError(await login(session.email, session.password), 401, "AuthenticationError");
    await expectUnauthenticated(await api("/v1/users/me", { token: session.access_token }));
    await expectUnauthenticated(
      await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: session.refresh_token } }),
    );
    const admin = await createAdmin();
    for (const id of [published.id, draft.id]) {
      const body = await expectError(await api(`/v1/posts/${id}`, { token: admin.access_token }), 404, "NotFoundError");
      expect(body.details).toEqual({ resource: "post", id });
    }
    await expectUserNotFound(await api(`/v1/users/${session.id}`, { token: admin.access_token }), session.id);
    expect(await countPostsOf(session.id)).toBe(0);
    expect(await dbUser(session.id)).toBeNull();
  });

  it("lets the same email register again afterwards", async () => {
    const session = await createUser({ email: uniqueEmail("again") });
    expect((await api("/v1/users/me", { method: "DELETE", token: session.access_token })).status).toBe(204);
    const again = await createUser({ email: session.email });
    expect(again.id).not.toBe(session.id);
  });

  it("401s anonymous callers", async () => {
    await expectUnauthenticated(await api("/v1/users/me", { method: "DELETE" }));
  });

  it("409s for the last active admin", async () => {
    const admin = await createAdmin();
    await onlyTheseAdmins(admin);
    await expectLastAdminConflict(await api("/v1/users/me", { method: "DELETE", token: admin.access_token }));
    expect(await dbUser(admin.id)).toMatchObject({ role: "admin", is_active: 1 });
  });

  it("lets an admin delete itself while another active admin remains", async () => {
    const first = await createAdmin();
    const second = await createAdmin();
    await onlyTheseAdmins(first, second);
    expect((await api("/v1/users/me", { method: "DELETE", token: first.access_token })).status).toBe(204);
    expect(await dbUser(first.id)).toBeNull();
  });
});

describe("GET /v1/users", () => {
  it("lists users as exactly the eight user fields, newest first", async () => {
    const admin = await createAdmin();
    const prefix = uniquePrefix("list");
    const a = await createUser({ email: `${prefix}-a@example.com` });
    const b = await createUser({ email: `${prefix}-b@example.com` });
    const response = await api(`/v1/users?email=${prefix}`, { token: admin.access_token });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).not.toContain("password");
    const page = JSON.parse(text) as Page<UserJson>;
    expect(Object.keys(page).sort()).toEqual(["data", "next_cursor"]);
    for (const user of page.data) expectUserJson(user);
    expect(page.data.map((user) => user.id).sort()).toEqual([a.id, b.id].sort());
    expectNewestFirst(page.data);
    expect(page.next_cursor).toBeNull();
  });

  it("walks every page with the cursor, without duplicates, while users are added", async () => {
    const admin = await createAdmin();
    const prefix = uniquePrefix("walk");
    const created: Session[] = [];
    for (let i = 0; i < 7; i++) created.push(await createUser({ email: `${prefix}-${i}@example.com` }));
    const ids = created.map((session) => session.id).sort();

    const filtered = await walkUsers(admin.access_token, `?email=${prefix}&limit=2`);
    expect(filtered).toHaveLength(7);
    expect(filtered.map((user) => user.id).sort()).toEqual(ids);
    expectNewestFirst(filtered);

    // Whole table, small pages; a sign-up after the first page neither shifts nor repeats rows.
    let late: Session | undefined;
    const all = await walkUsers(admin.access_token, "?limit=3", async () => {
      late = await createUser({ email: `${prefix}-late@example.com` });
    });
    const allIds = all.map((user) => user.id);
    expect(new Set(allIds).size).toBe(allIds.length);
    for (const id of ids) expect(allIds).toContain(id);
    expect(allIds).toContain(admin.id);
    expect(late).toBeDefined();
    if (late) expect(allIds).not.toContain(late.id);
    expectNewestFirst(all);
  });

  it("returns next_cursor only while there are more rows", async () => {
    const admin = await createAdmin();
    const prefix = uniquePrefix("edge");
    await createUser({ email: `${prefix}-1@example.com` });
    await createUser({ email: `${prefix}-2@example.com` });
    const exact = await listUsers(admin.access_token, `?email=${prefix}&limit=2`);
    expect(exact.data).toHaveLength(2);
    expect(exact.next_cursor).toBeNull();
    const first = await listUsers(admin.access_token, `?email=${prefix}&limit=1`);
    expect(first.data).toHaveLength(1);
    expect(first.next_cursor).toEqual(expect.any(String));
  });

  it("filters by role", async () => {
    const admin = await createAdmin();
    const guest = await withRole(await createUser(), "guest");
    const user = await createUser();
    const admins = await walkUsers(admin.access_token, "?role=admin&limit=100");
    expect(admins.every((row) => row.role === "admin")).toBe(true);
    expect(admins.map((row) => row.id)).toContain(admin.id);
    const guests = await walkUsers(admin.access_token, "?role=guest&limit=100");
    expect(guests.every((row) => row.role === "guest")).toBe(true);
    const guestIds = guests.map((row) => row.id);
    expect(guestIds).toContain(guest.id);
    expect(guestIds).not.toContain(user.id);
    const users = await walkUsers(admin.access_token, "?role=user&limit=100");
    expect(users.every((row) => row.role === "user")).toBe(true);
    expect(users.map((row) => row.id)).toContain(user.id);
  });

  it("filters by is_active given as the strings true and false", async () => {
    const admin = await createAdmin();
    const prefix = uniquePrefix("active");
    const on = await createUser({ email: `${prefix}-on@example.com` });
    const off = await createUser({ email: `${prefix}-off@example.com` });
    const patched = await api(`/v1/users/${off.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { is_active: false },
    });
    expect(patched.status).toBe(200);
    const active = await listUsers(admin.access_token, `?email=${prefix}&is_active=true`);
    expect(active.data.map((row) => row.id)).toEqual([on.id]);
    const inactive = await listUsers(admin.access_token, `?email=${prefix}&is_active=false`);
    expect(inactive.data.map((row) => row.id)).toEqual([off.id]);
    expect(inactive.data[0]?.is_active).toBe(false);
    const both = await listUsers(admin.access_token, `?email=${prefix}`);
    expect(both.data).toHaveLength(2);
  });

  it("filters by email prefix, case-insensitively, combined with role", async () => {
    const admin = await createAdmin();
    const prefix = uniquePrefix("case");
    const one = await createUser({ email: `${prefix}-one@example.com` });
    const two = await withRole(await createUser({ email: `${prefix}-two@example.com` }), "guest");
    await createUser({ email: `x${prefix}-not-a-prefix@example.com` });
    const upper = await listUsers(admin.access_token, `?email=${prefix.toUpperCase()}`);
    expect(upper.data.map((row) => row.id).sort()).toEqual([one.id, two.id].sort());
    const narrower = await listUsers(admin.access_token, `?email=${encodeURIComponent(`${prefix}-T`)}`);
    expect(narrower.data.map((row) => row.id)).toEqual([two.id]);
    const guests = await listUsers(admin.access_token, `?email=${prefix}&role=guest`);
    expect(guests.data.map((row) => row.id)).toEqual([two.id]);
    const whole = await listUsers(admin.access_token, `?email=${encodeURIComponent(one.email)}`);
    expect(whole.data.map((row) => row.id)).toEqual([one.id]);
    const none = await listUsers(admin.access_token, `?email=${prefix}-zzz`);
    expect(none).toEqual({ data: [], next_cursor: null });
  });

  it("finds a mixed-case sign-up by its lower-cased email", async () => {
    const admin = await createAdmin();
    const prefix = uniquePrefix("mixed");
    const email = `${prefix.toUpperCase()}-Mixed@Example.COM`;
    const session = await createUser({ email });
    expect(session.user.email).toBe(email.toLowerCase());
    const page = await listUsers(admin.access_token, `?email=${prefix}-MIXED`);
    expect(page.data.map((row) => row.id)).toEqual([session.id]);
  });

  it("treats % and _ in the email filter as literal characters, not wildcards", async () => {
    const admin = await createAdmin();
    const prefix = uniquePrefix("lit");
    const underscore = await createUser({ email: `${prefix}_x@example.com` });
    await createUser({ email: `${prefix}ax@example.com` });
    const literal = await listUsers(admin.access_token, `?email=${encodeURIComponent(`${prefix}_`)}`);
    expect(literal.data.map((row) => row.id)).toEqual([underscore.id]);
    const percent = await listUsers(admin.access_token, `?email=${encodeURIComponent(`${prefix}%`)}`);
    expect(percent).toEqual({ data: [], next_cursor: null });
    const bare = await listUsers(admin.access_token, `?email=${encodeURIComponent("%")}`);
    expect(bare).toEqual({ data: [], next_cursor: null });
    const single = await listUsers(admin.access_token, `?email=${encodeURIComponent("_")}`);
    expect(single).toEqual({ data: [], next_cursor: null });
  });

  it.each([
    ["role=superuser", ["role"]],
    ["is_active=yes", ["is_active"]],
    ["is_active=1", ["is_active"]],
    ["limit=0", ["limit"]],
    ["limit=101", ["limit"]],
    ["limit=ten", ["limit"]],
    ["cursor=not-a-cursor", ["cursor"]],
    ["sort=email", ["sort"]],
    ["role=guest&is_active=maybe", ["is_active"]],
  ])("400s the invalid query %s with details.issues", async (query, paths) => {
    const admin = await createAdmin();
    await expectIssues(await api(`/v1/users?${query}`, { token: admin.access_token }), paths);
  });

  it("403s users and guests", async () => {
    const user = await createUser();
    await expectForbidden(await api("/v1/users", { token: user.access_token }));
    const guest = await withRole(await createUser(), "guest");
    await expectForbidden(await api("/v1/users", { token: guest.access_token }));
  });

  it("401s anonymous callers", async () => {
    await expectUnauthenticated(await api("/v1/users"));
    await expectUnauthenticated(await api("/v1/users?role=admin"));
  });
});

describe("GET /v1/users/:id", () => {
  it("shows an admin the full user", async () => {
    const admin = await createAdmin();
    const target = await createUser({ name: "Target Person" });
    const response = await api(`/v1/users/${target.id}`, { token: admin.access_token });
    expect(response.status).toBe(200);
    const user = await json(response);
    expectUserJson(user);
    expect(user).toEqual(target.user);
  });

  it("shows everyone else, anonymous included, exactly {id, name}", async () => {
    const target = await createUser({ name: "Public Person" });
    const user = await createUser();
    const guest = await withRole(await createUser(), "guest");
    for (const token of [undefined, user.access_token, guest.access_token]) {
      const response = await api(`/v1/users/${target.id}`, { token });
      expect(response.status).toBe(200);
      expect(await json(response)).toStrictEqual({ id: target.id, name: "Public Person" });
    }
  });

  it("404s an unknown id with the user's details, for admins and anonymous alike", async () => {
    const admin = await createAdmin();
    const id = crypto.randomUUID();
    await expectUserNotFound(await api(`/v1/users/${id}`, { token: admin.access_token }), id);
    await expectUserNotFound(await api(`/v1/users/${id}`), id);
  });

  it("400s an id that cannot be an id", async () => {
    await expectIssues(await api(`/v1/users/${"x".repeat(129)}`), ["id"]);
    await expectIssues(await api("/v1/users/bad%20id"), ["id"]);
  });
});

describe("PATCH /v1/users/:id", () => {
  it("lets an admin change name, role and is_active", async () => {
    const admin = await createAdmin();
    const target = await createUser({ name: "Before" });
    const response = await api(`/v1/users/${target.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { name: "After", role: "guest", is_active: false },
    });
    expect(response.status).toBe(200);
    const user = await json(response);
    expectUserJson(user);
    expect(user).toMatchObject({ id: target.id, email: target.email, name: "After", role: "guest", is_active: false });
    expect(await dbUser(target.id)).toEqual({ name: "After", role: "guest", is_active: 0 });
  });

  it("revokes the target's tokens on a role change; its next login carries the new role", async () => {
    const admin = await createAdmin();
    const target = await createUser();
    const response = await api(`/v1/users/${target.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { role: "guest" },
    });
    expect(response.status).toBe(200);
    await expectUnauthenticated(await api("/v1/users/me", { token: target.access_token }));
    const again = await login(target.email, target.password);
    expect(again.status).toBe(200);
    const body = await json<{ user: UserJson; access_token: string }>(again);
    expect(body.user.role).toBe("guest");
    await expectForbidden(
      await api("/v1/posts", { method: "POST", token: body.access_token, body: { title: "t", content: "c" } }),
    );
  });

  it("deactivation stops login and refresh; reactivation allows login again", async () => {
    const admin = await createAdmin();
    const target = await createUser();
    const off = await api(`/v1/users/${target.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { is_active: false },
    });
    expect(off.status).toBe(200);
    await expectError(await login(target.email, target.password), 401, "AuthenticationError");
    await expectUnauthenticated(
      await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: target.refresh_token } }),
    );
    const on = await api(`/v1/users/${target.id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { is_active: true },
    });
    expect(on.status).toBe(200);
    expect((await login(target.email, target.password)).status).toBe(200);
  });

  it.each([
    [{ email: "new@example.com" }, "email"],
    [{ password: "a new password" }, "password"],
    [{ password_hash: "pbkdf2_sha256$1$x$y" }, "password_hash"],
    [{ id: "another-id" }, "id"],
  ])("400s the unknown field in %o, naming it", async (body, field) => {
    const admin = await createAdmin();
    const target = await createUser();
    const response = await api(`/v1/users/${target.id}`, { method: "PATCH", token: admin.access_token, body });
    const error = await expectError(response, 400, "ValidationError");
    expect(error.details).toEqual({ issues: [{ path: field, message: "Unknown field" }] });
    expect((await login(target.email, target.password)).status).toBe(200);
  });

  it("400s invalid values", async () => {
    const admin = await createAdmin();
    const target = await createUser();
    const patch = (body: unknown) =>
      api(`/v1/users/${target.id}`, { method: "PATCH", token: admin.access_token, body });
    await expectIssues(await patch({ role: "superadmin" }), ["role"]);
    await expectIssues(await patch({ is_active: "false" }), ["is_active"]);
    await expectIssues(await patch({ name: "" }), ["name"]);
    expect(await dbUser(target.id)).toEqual({ name: "Test User", role: "user", is_active: 1 });
  });

  it("404s an unknown user", async () => {
    const admin = await createAdmin();
    const id = crypto.randomUUID();
    const response = await api(`/v1/users/${id}`, {
      method: "PATCH",
      token: admin.access_token,
      body: { name: "Ghost" },
    });
    await expectUserNotFound(response, id);
  });

  it("403s users and guests, including promoting themselves; 401s anonymous", async () => {
    const user = await createUser();
    const guest = await withRole(await createUser(), "guest");
    const target = await createUser();
    for (const actor of [user, guest]) {
      await expectForbidden(
        await api(`/v1/users/${target.id}`, { method: "PATCH", token: actor.access_token, body: { name: "Hacked" } }),
      );
      await expectForbidden(
        await api(`/v1/users/${actor.id}`, { method: "PATCH", token: actor.access_token, body: { role: "admin" } }),
      );
    }
    await expectUnauthenticated(await api(`/v1/users/${target.id}`, { method: "PATCH", body: { name: "Hacked" } }));
    expect(await dbUser(target.id)).toEqual({ name: "Test User", role: "user", is_active: 1 });
    expect((await dbUser(user.id))?.role).toBe("user");
    expect((await dbUser(guest.id))?.role).toBe("guest");
  });

  describe("last-admin protection", () => {
    it("409s the last active admin demoting itself", async () => {
      const admin = await createAdmin();
      await onlyTheseAdmins(admin);
      for (const role of ["user", "guest"] as const) {
        const response = await api(`/v1/users/${admin.id}`, {
          method: "PATCH",
          token: admin.access_token,
          body: { role },
        });
        await expectLastAdminConflict(response);
      }
      expect(await dbUser(admin.id)).toMatchObject({ role: "admin", is_active: 1 });
    });

    it("409s the last active admin deactivating itself", async () => {
      const admin = await createAdmin();
      await onlyTheseAdmins(admin);
      const response = await api(`/v1/users/${admin.id}`, {
        method: "PATCH",
        token: admin.access_token,
        body: { is_active: false },
      });
      await expectLastAdminConflict(response);
      expect(await dbUser(admin.id)).toMatchObject({ role: "admin", is_active: 1 });
      // The refused change left its sessions alone.
      expect((await api("/v1/users/me", { token: admin.access_token })).status).toBe(200);
    });

    it("still lets the last admin rename itself and keep its role", async () => {
      const admin = await createAdmin();
      await onlyTheseAdmins(admin);
      const response = await api(`/v1/users/${admin.id}`, {
        method: "PATCH",
        token: admin.access_token,
        body: { name: "Sole Admin", role: "admin", is_active: true },
      });
      expect(response.status).toBe(200);
      expect(await json(response)).toMatchObject({ name: "Sole Admin", role: "admin", is_active: true });
    });

    it("counts only active admins", async () => {
      const admin = await createAdmin();
      const dormant = await createAdmin();
      await onlyTheseAdmins(admin, dormant);
      await env.DB.prepare("update users set is_active = 0 where id = ?").bind(dormant.id).run();
      const response = await api(`/v1/users/${admin.id}`, {
        method: "PATCH",
        token: admin.access_token,
        body: { role: "user" },
      });
      await expectLastAdminConflict(response);
    });

    it("with two admins, one can demote the other, and then not itself", async () => {
      const first = await createAdmin();
      const second = await createAdmin();
      await onlyTheseAdmins(first, second);
      const demoted = await api(`/v1/users/${second.id}`, {
        method: "PATCH",
        token: first.access_token,
        body: { role: "user" },
      });
      expect(demoted.status).toBe(200);
      expect(await json(demoted)).toMatchObject({ id: second.id, role: "user", is_active: true });
      // The demoted admin's token, which still says "admin", no longer works.
      await expectUnauthenticated(await api("/v1/users", { token: second.access_token }));
      await expectLastAdminConflict(
        await api(`/v1/users/${first.id}`, { method: "PATCH", token: first.access_token, body: { role: "user" } }),
      );
    });

    it("with two admins, one can deactivate the other or demote itself", async () => {
      const first = await createAdmin();
      const second = await createAdmin();
      const third = await createAdmin();
      await onlyTheseAdmins(first, second, third);
      const off = await api(`/v1/users/${second.id}`, {
        method: "PATCH",
        token: first.access_token,
        body: { is_active: false },
      });
      expect(off.status).toBe(200);
      const self = await api(`/v1/users/${first.id}`, {
        method: "PATCH",
        token: first.access_token,
        body: { role: "user" },
      });
      expect(self.status).toBe(200);
      expect(await dbUser(third.id)).toMatchObject({ role: "admin", is_active: 1 });
      await expectLastAdminConflict(
        await api(`/v1/users/${third.id}`, { method: "PATCH", token: third.access_token, body: { is_active: false } }),
      );
    });
  });
});

describe("DELETE /v1/users/:id", () => {
  it("lets an admin delete a user; the user's posts go with it (API and D1)", async () => {
    const admin = await createAdmin();
    const target = await createUser();
    const posts = [
      await createPost(target.access_token, { status: "published" }),
      await createPost(target.access_token, { status: "draft" }),
      await createPost(target.access_token, { status: "archived" }),
    ];
    expect(await countPostsOf(target.id)).toBe(3);
    const response = await api(`/v1/users/${target.id}`, { method: "DELETE", token: admin.access_token });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");

    for (const post of posts) {
      const body = await expectError(
        await api(`/v1/posts/${post.id}`, { token: admin.access_token }),
        404,
        "NotFoundError",
      );
      expect(body.details).toEqual({ resource: "post", id: post.id });
    }
    const listed = await json<Page<PostJson>>(
      await api(`/v1/posts?author_id=${target.id}&limit=100`, { token: admin.access_token }),
    );
    expect(listed).toEqual({ data: [], next_cursor: null });
    await expectUserNotFound(await api(`/v1/users/${target.id}`, { token: admin.access_token }), target.id);
    await expectUserNotFound(await api(`/v1/users/${target.id}/posts`), target.id);

    expect(await dbUser(target.id)).toBeNull();
    expect(await countPostsOf(target.id)).toBe(0);
    const tokens = await env.DB.prepare("select count(*) as n from refresh_tokens where user_id = ?")
      .bind(target.id)
      .first<{ n: number }>();
    expect(tokens?.n).toBe(0);

    await expectUnauthenticated(await api("/v1/users/me", { token: target.access_token }));
    await expectError(await login(target.email, target.password), 401, "AuthenticationError");
  });

  it("removes the user's published posts from public reads that were served before", async () => {
    const admin = await createAdmin();
    const target = await createUser();
    const post = await createPost(target.access_token, { status: "published" });
    await warmPublicPost(post.id);
    const listQuery = `/v1/posts?author_id=${target.id}`;
    const before = await json<Page<PostJson>>(await api(listQuery));
    expect(before.data.map((row) => row.id)).toEqual([post.id]);

    const response = await api(`/v1/users/${target.id}`, { method: "DELETE", token: admin.access_token });
    expect(response.status).toBe(204);

    const body = await expectError(await api(`/v1/posts/${post.id}`), 404, "NotFoundError");
    expect(body.details).toEqual({ resource: "post", id: post.id });
    expect(await json(await api(listQuery))).toEqual({ data: [], next_cursor: null });
  });

  it("404s an unknown user, and a second delete", async () => {
    const admin = await createAdmin();
    const id = crypto.randomUUID();
    await expectUserNotFound(await api(`/v1/users/${id}`, { method: "DELETE", token: admin.access_token }), id);
    const target = await createUser();
    expect((await api(`/v1/users/${target.id}`, { method: "DELETE", token: admin.access_token })).status).toBe(204);
    await expectUserNotFound(
      await api(`/v1/users/${target.id}`, { method: "DELETE", token: admin.access_token }),
      target.id,
    );
  });

  it("403s users and guests; 401s anonymous; nothing is deleted", async () => {
    const target = await createUser();
    const post = await createPost(target.access_token, { status: "published" });
    const user = await createUser();
    const guest = await withRole(await createUser(), "guest");
    for (const actor of [user, guest]) {
      await expectForbidden(await api(`/v1/users/${target.id}`, { method: "DELETE", token: actor.access_token }));
    }
    await expectForbidden(await api(`/v1/users/${user.id}`, { method: "DELETE", token: user.access_token }));
    await expectUnauthenticated(await api(`/v1/users/${target.id}`, { method: "DELETE" }));
    expect(await dbUser(target.id)).not.toBeNull();
    expect(await dbUser(user.id)).not.toBeNull();
    expect(await countPostsOf(target.id)).toBe(1);
    expect((await api(`/v1/posts/${post.id}`)).status).toBe(200);
  });

  it("409s deleting the last active admin", async () => {
    const admin = await createAdmin();
    await onlyTheseAdmins(admin);
    await expectLastAdminConflict(await api(`/v1/users/${admin.id}`, { method: "DELETE", token: admin.access_token }));
    expect(await dbUser(admin.id)).toMatchObject({ role: "admin", is_active: 1 });
  });

  it("with two admins, one can delete the other, and then not itself", async () => {
    const first = await createAdmin();
    const second = await createAdmin();
    await onlyTheseAdmins(first, second);
    expect((await api(`/v1/users/${second.id}`, { method: "DELETE", token: first.access_token })).status).toBe(204);
    expect(await dbUser(second.id)).toBeNull();
    await expectLastAdminConflict(await api(`/v1/users/${first.id}`, { method: "DELETE", token: first.access_token }));
  });
});

describe("GET /v1/users/:id/posts", () => {
  it("lists the author's visible posts and 404s an unknown author", async () => {
    const author = await createUser();
    const published = await createPost(author.access_token, { status: "published" });
    await createPost(author.access_token, { status: "draft" });
    const page = await json<Page<PostJson>>(await api(`/v1/users/${author.id}/posts`));
    expect(page.data.map((post) => post.id)).toEqual([published.id]);
    expect(page.next_cursor).toBeNull();
    const id = crypto.randomUUID();
    await expectUserNotFound(await api(`/v1/users/${id}/posts`), id);
  });
});

describe("empty updates", () => {
  it("PATCH /v1/users/me and /v1/users/:id refuse a body that changes nothing", async () => {
    const user = await createUser();
    const admin = await createAdmin();
    for (const [path, token] of [
      ["/v1/users/me", user.access_token],
      [`/v1/users/${user.id}`, admin.access_token],
    ] as const) {
      const response = await api(path, { method: "PATCH", token, body: {} });
      const body = await expectError(response, 400, "ValidationError");
      expect(body.details).toEqual({ issues: [{ path: "", message: "must change at least one field" }] });
    }
  });

  it("an unknown field alone gives one issue, naming it", async () => {
    const user = await createUser();
    const post = await createPost(user.access_token);
    const response = await api(`/v1/posts/${post.id}`, {
      method: "PATCH",
      token: user.access_token,
      body: { author_id: "x" },
    });
    const body = await expectError(response, 400, "ValidationError");
    expect(body.details).toEqual({ issues: [{ path: "author_id", message: "Unknown field" }] });
  });
});
