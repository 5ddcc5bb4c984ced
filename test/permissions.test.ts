import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { api, createAdmin, createPost, createUser, expectError, json, type Session, withRole } from "./helpers";

/**
 * API.md §2 and §5 as a table: every (actor, action) cell has its exact status. Each cell builds
 * its own world (an owner with a post in every status, and the acting user with its own posts).
 */

const ACTORS = ["anonymous", "guest", "owner", "other", "admin"] as const;
type ActorName = (typeof ACTORS)[number];
type Status = "draft" | "published" | "archived";
const STATUSES: readonly Status[] = ["draft", "published", "archived"];

type PostRef = { id: string; status: Status };
type PostSet = Record<Status, PostRef>;
type World = {
  actorName: ActorName;
  owner: Session;
  ownerPosts: PostSet;
  /** Undefined for anonymous. */
  actor: Session | undefined;
  /** The actor's own posts (for the owner: the same as `ownerPosts`). Undefined for anonymous. */
  ownPosts: PostSet | undefined;
  token: string | undefined;
};

type PostJson = { id: string; status: Status; author: { id: string; name: string }; version: number };
type Page<T> = { data: T[]; next_cursor: string | null };

async function postsFor(session: Session): Promise<PostSet> {
  const make = async (status: Status): Promise<PostRef> => ({
    id: (await createPost(session.access_token, { status, title: `${status} post` })).id,
    status,
  });
  return { draft: await make("draft"), published: await make("published"), archived: await make("archived") };
}

async function buildWorld(actorName: ActorName): Promise<World> {
  const owner = await createUser({ name: "Owner" });
  const ownerPosts = await postsFor(owner);
  const base = { actorName, owner, ownerPosts };
  switch (actorName) {
    case "anonymous":
      return { ...base, actor: undefined, ownPosts: undefined, token: undefined };
    case "owner":
      return { ...base, actor: owner, ownPosts: ownerPosts, token: owner.access_token };
    case "other": {
      const other = await createUser({ name: "Other" });
      return { ...base, actor: other, ownPosts: await postsFor(other), token: other.access_token };
    }
    case "guest": {
      // A guest's own posts are ones it wrote while it was still a user.
      const user = await createUser({ name: "Guest" });
      const ownPosts = await postsFor(user);
      const guest = await withRole(user, "guest");
      return { ...base, actor: guest, ownPosts, token: guest.access_token };
    }
    case "admin": {
      const admin = await createAdmin();
      return { ...base, actor: admin, ownPosts: await postsFor(admin), token: admin.access_token };
    }
  }
}

function requireActor(world: World): { actor: Session; ownPosts: PostSet } {
  if (!world.actor || !world.ownPosts) throw new Error(`${world.actorName} has no account`);
  return { actor: world.actor, ownPosts: world.ownPosts };
}

type PostRow = { title: string; status: string; version: number };
async function postRow(id: string): Promise<PostRow | null> {
  return env.DB.prepare("select title, status, version from posts where id = ?").bind(id).first<PostRow>();
}

type UserRow = { name: string; role: string; is_active: number };
async function userRow(id: string): Promise<UserRow | null> {
  return env.DB.prepare("select name, role, is_active from users where id = ?").bind(id).first<UserRow>();
}

type Target = { resource: "post" | "user"; id: string };

type Case = {
  action: string;
  /** `null`: the cell does not apply (anonymous callers own nothing). */
  expected: Record<ActorName, number | null>;
  run: (
    world: World,
  ) => Promise<{ response: Response; target?: Target; verify?: (succeeded: boolean) => Promise<void> }>;
};

const everyone = (status: number): Record<ActorName, number> => ({
  anonymous: status,
  guest: status,
  owner: status,
  other: status,
  admin: status,
});

/** A post write whose effect (or absence of one) is checked in D1. */
function patchPost(pick: (world: World) => PostRef, body: { title?: string; status?: Status }) {
  return async (world: World) => {
    const post = pick(world);
    const response = await api(`/v1/posts/${post.id}`, { method: "PATCH", token: world.token, body });
    return {
      response,
      target: { resource: "post", id: post.id } as const,
      verify: async (succeeded: boolean) => {
        const row = await postRow(post.id);
        if (succeeded) {
          expect(row).toMatchObject({ version: 2, ...body });
        } else {
          expect(row).toEqual({ title: `${post.status} post`, status: post.status, version: 1 });
        }
      },
    };
  };
}

function deletePost(pick: (world: World) => PostRef) {
  return async (world: World) => {
    const post = pick(world);
    const response = await api(`/v1/posts/${post.id}`, { method: "DELETE", token: world.token });
    return {
      response,
      target: { resource: "post", id: post.id } as const,
      verify: async (succeeded: boolean) => {
        const row = await postRow(post.id);
        if (succeeded) expect(row).toBeNull();
        else expect(row).not.toBeNull();
      },
    };
  };
}

function readPost(pick: (world: World) => PostRef) {
  return async (world: World) => {
    const post = pick(world);
    const response = await api(`/v1/posts/${post.id}`, { token: world.token });
    return {
      response,
      target: { resource: "post", id: post.id } as const,
      verify: async (succeeded: boolean) => {
        if (succeeded)
          expect(await json<PostJson>(response.clone())).toMatchObject({ id: post.id, status: post.status });
      },
    };
  };
}

const own = (status: Status) => (world: World) => requireActor(world).ownPosts[status];
const owners = (status: Status) => (world: World) => world.ownerPosts[status];

const CASES: Case[] = [
  // Reads (§5 visibility).
  { action: "read another's published post", expected: everyone(200), run: readPost(owners("published")) },
  {
    action: "read another's draft",
    expected: { anonymous: 404, guest: 404, owner: 200, other: 404, admin: 200 },
    run: readPost(owners("draft")),
  },
  {
    action: "read another's archived post",
    expected: { anonymous: 404, guest: 404, owner: 200, other: 404, admin: 200 },
    run: readPost(owners("archived")),
  },
  {
    action: "read own draft",
    expected: { anonymous: null, guest: 200, owner: 200, other: 200, admin: 200 },
    run: readPost(own("draft")),
  },
  {
    action: "read own archived post",
    expected: { anonymous: null, guest: 200, owner: 200, other: 200, admin: 200 },
    run: readPost(own("archived")),
  },
  {
    action: "read a post that never existed",
    expected: everyone(404),
    run: async (world) => {
      const id = crypto.randomUUID();
      return { response: await api(`/v1/posts/${id}`, { token: world.token }), target: { resource: "post", id } };
    },
  },
  {
    action: "list posts",
    expected: everyone(200),
    run: async (world) => ({ response: await api("/v1/posts", { token: world.token }) }),
  },
  {
    action: "list a user's posts",
    expected: everyone(200),
    run: async (world) => ({ response: await api(`/v1/users/${world.owner.id}/posts`, { token: world.token }) }),
  },

  // Create (§2 write).
  {
    action: "create a post",
    expected: { anonymous: 401, guest: 403, owner: 201, other: 201, admin: 201 },
    run: async (world) => {
      const title = `created by ${world.actorName} ${crypto.randomUUID()}`;
      const response = await api("/v1/posts", { method: "POST", token: world.token, body: { title, content: "c" } });
      return {
        response,
        verify: async (succeeded) => {
          const row = await env.DB.prepare("select count(*) as n from posts where title = ?")
            .bind(title)
            .first<{ n: number }>();
          expect(row?.n).toBe(succeeded ? 1 : 0);
        },
      };
    },
  },

  // Edit (§2 write own / any; §5: invisible → 404, visible but not editable → 403).
  {
    action: "edit own published post",
    expected: { anonymous: null, guest: 403, owner: 200, other: 200, admin: 200 },
    run: patchPost(own("published"), { title: "edited" }),
  },
  {
    action: "edit own draft",
    expected: { anonymous: null, guest: 403, owner: 200, other: 200, admin: 200 },
    run: patchPost(own("draft"), { title: "edited" }),
  },
  {
    action: "archive own published post",
    expected: { anonymous: null, guest: 403, owner: 200, other: 200, admin: 200 },
    run: patchPost(own("published"), { status: "archived" }),
  },
  {
    action: "edit another's published post",
    expected: { anonymous: 401, guest: 403, owner: 200, other: 403, admin: 200 },
    run: patchPost(owners("published"), { title: "edited" }),
  },
  {
    action: "edit another's draft",
    expected: { anonymous: 401, guest: 404, owner: 200, other: 404, admin: 200 },
    run: patchPost(owners("draft"), { title: "edited" }),
  },
  {
    action: "edit another's archived post",
    expected: { anonymous: 401, guest: 404, owner: 200, other: 404, admin: 200 },
    run: patchPost(owners("archived"), { title: "edited" }),
  },
  {
    action: "publish another's draft",
    expected: { anonymous: 401, guest: 404, owner: 200, other: 404, admin: 200 },
    run: patchPost(owners("draft"), { status: "published" }),
  },
  {
    action: "archive another's published post",
    expected: { anonymous: 401, guest: 403, owner: 200, other: 403, admin: 200 },
    run: patchPost(owners("published"), { status: "archived" }),
  },
  {
    action: "edit a post that never existed",
    expected: { anonymous: 401, guest: 404, owner: 404, other: 404, admin: 404 },
    run: async (world) => {
      const id = crypto.randomUUID();
      const response = await api(`/v1/posts/${id}`, { method: "PATCH", token: world.token, body: { title: "x" } });
      return { response, target: { resource: "post", id } };
    },
  },

  // Delete (§2: admins hard-delete; users archive instead).
  {
    action: "delete own published post",
    expected: { anonymous: null, guest: 403, owner: 403, other: 403, admin: 204 },
    run: deletePost(own("published")),
  },
  {
    action: "delete own draft",
    expected: { anonymous: null, guest: 403, owner: 403, other: 403, admin: 204 },
    run: deletePost(own("draft")),
  },
  {
    action: "delete another's published post",
    expected: { anonymous: 401, guest: 403, owner: 403, other: 403, admin: 204 },
    run: deletePost(owners("published")),
  },
  {
    action: "delete another's draft",
    expected: { anonymous: 401, guest: 404, owner: 403, other: 404, admin: 204 },
    run: deletePost(owners("draft")),
  },
  {
    action: "delete another's archived post",
    expected: { anonymous: 401, guest: 404, owner: 403, other: 404, admin: 204 },
    run: deletePost(owners("archived")),
  },
  {
    action: "delete a post that never existed",
    expected: { anonymous: 401, guest: 404, owner: 404, other: 404, admin: 404 },
    run: async (world) => {
      const id = crypto.randomUUID();
      const response = await api(`/v1/posts/${id}`, { method: "DELETE", token: world.token });
      return { response, target: { resource: "post", id } };
    },
  },

  // Manage users (§2 delete column, §4).
  {
    action: "read a public profile",
    expected: everyone(200),
    run: async (world) => {
      const response = await api(`/v1/users/${world.owner.id}`, { token: world.token });
      return {
        response,
        verify: async () => {
          const body = await json<Record<string, unknown>>(response.clone());
          const keys = world.actorName === "admin" ? 8 : 2;
          expect(Object.keys(body)).toHaveLength(keys);
          expect(body).toMatchObject({ id: world.owner.id, name: "Owner" });
        },
      };
    },
  },
  {
    action: "list users",
    expected: { anonymous: 401, guest: 403, owner: 403, other: 403, admin: 200 },
    run: async (world) => ({ response: await api("/v1/users", { token: world.token }) }),
  },
  {
    action: "patch another user",
    expected: { anonymous: 401, guest: 403, owner: 403, other: 403, admin: 200 },
    run: async (world) => {
      const victim = await createUser({ name: "Victim" });
      const response = await api(`/v1/users/${victim.id}`, {
        method: "PATCH",
        token: world.token,
        body: { name: "Renamed", role: "guest" },
      });
      return {
        response,
        verify: async (succeeded) => {
          const expected = succeeded
            ? { name: "Renamed", role: "guest", is_active: 1 }
            : { name: "Victim", role: "user", is_active: 1 };
          expect(await userRow(victim.id)).toEqual(expected);
        },
      };
    },
  },
  {
    action: "promote oneself to admin",
    expected: { anonymous: null, guest: 403, owner: 403, other: 403, admin: null },
    run: async (world) => {
      const { actor } = requireActor(world);
      const before = await userRow(actor.id);
      const response = await api(`/v1/users/${actor.id}`, {
        method: "PATCH",
        token: world.token,
        body: { role: "admin" },
      });
      return {
        response,
        verify: async () => {
          expect(await userRow(actor.id)).toEqual(before);
        },
      };
    },
  },
  {
    action: "delete another user",
    expected: { anonymous: 401, guest: 403, owner: 403, other: 403, admin: 204 },
    run: async (world) => {
      const victim = await createUser({ name: "Victim" });
      const response = await api(`/v1/users/${victim.id}`, { method: "DELETE", token: world.token });
      return {
        response,
        verify: async (succeeded) => {
          const row = await userRow(victim.id);
          if (succeeded) expect(row).toBeNull();
          else expect(row).not.toBeNull();
        },
      };
    },
  },
  {
    action: "delete a user that never existed",
    expected: { anonymous: 401, guest: 403, owner: 403, other: 403, admin: 404 },
    run: async (world) => {
      const id = crypto.randomUUID();
      const response = await api(`/v1/users/${id}`, { method: "DELETE", token: world.token });
      return { response, target: { resource: "user", id } };
    },
  },
];

const ERROR_TYPES: Record<number, string> = {
  401: "AuthenticationError",
  403: "PermissionError",
  404: "NotFoundError",
};

/** Asserts a cell's outcome: the exact status, and for errors the whole envelope. */
async function expectOutcome(response: Response, status: number, target: Target | undefined): Promise<void> {
  const type = ERROR_TYPES[status];
  if (type === undefined) {
    expect(response.status).toBe(status);
    return;
  }
  const body = await expectError(response, status, type);
  if (status === 401) {
    expect(body.details).toEqual({});
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
  } else if (status === 403) {
    expect(body.details).toEqual({});
  } else {
    // A hidden resource answers exactly like one that never existed.
    if (!target) throw new Error("a 404 cell must name its target");
    const label = target.resource === "post" ? "Post" : "User";
    expect(body).toEqual({
      error: `${label} with id ${target.id} not found`,
      type: "NotFoundError",
      details: { resource: target.resource, id: target.id },
      request_id: body.request_id,
    });
  }
}

const CELLS = CASES.flatMap((entry) =>
  ACTORS.flatMap((actorName) => {
    const status = entry.expected[actorName];
    return status === null ? [] : [{ ...entry, actorName, status }];
  }),
);

describe("role × action × ownership matrix (API.md §2, §5)", () => {
  for (const { actorName, action, status, run } of CELLS) {
    it(`${actorName}: ${action} → ${status}`, async () => {
      const world = await buildWorld(actorName);
      const { response, target, verify } = await run(world);
      await expectOutcome(response, status, target);
      if (verify) await verify(status >= 200 && status < 300);
    });
  }
});

describe("hidden posts look like missing ones", () => {
  it.each([
    ["anonymous", "draft"],
    ["anonymous", "archived"],
    ["other", "draft"],
    ["other", "archived"],
    ["guest", "draft"],
    ["guest", "archived"],
  ] as const)("%s gets the same 404 body for another's %s as for an unknown id", async (actorName, status) => {
    const world = await buildWorld(actorName);
    const hidden = world.ownerPosts[status].id;
    const missing = crypto.randomUUID();
    const requests = [{ method: "GET" }, { method: "PATCH", body: { title: "x" } }, { method: "DELETE" }] as const;
    for (const init of requests) {
      if (actorName === "anonymous" && init.method !== "GET") continue;
      const a = await api(`/v1/posts/${hidden}`, { ...init, token: world.token });
      const b = await api(`/v1/posts/${missing}`, { ...init, token: world.token });
      expect(a.status).toBe(404);
      expect(b.status).toBe(404);
      const bodyA = await json<Record<string, unknown>>(a);
      const bodyB = await json<Record<string, unknown>>(b);
      const normalise = (body: Record<string, unknown>, id: string) =>
        JSON.parse(JSON.stringify({ ...body, request_id: "" }).replaceAll(id, "ID")) as unknown;
      expect(normalise(bodyA, hidden)).toEqual(normalise(bodyB, missing));
      expect(a.headers.get("Cache-Control")).toBe(b.headers.get("Cache-Control"));
    }
  });
});

describe("users archive instead of deleting", () => {
  it("a user's DELETE of its own post is 403; PATCH status archived hides it from everyone else", async () => {
    const owner = await createUser();
    const reader = await createUser();
    const post = await createPost(owner.access_token, { status: "published" });
    const refused = await expectError(
      await api(`/v1/posts/${post.id}`, { method: "DELETE", token: owner.access_token }),
      403,
      "PermissionError",
    );
    expect(refused.details).toEqual({});
    expect((await api(`/v1/posts/${post.id}`)).status).toBe(200);

    const archived = await api(`/v1/posts/${post.id}`, {
      method: "PATCH",
      token: owner.access_token,
      body: { status: "archived" },
    });
    expect(archived.status).toBe(200);
    expect(await json(archived)).toMatchObject({ id: post.id, status: "archived", version: 2 });

    for (const token of [undefined, reader.access_token]) {
      const body = await expectError(await api(`/v1/posts/${post.id}`, { token }), 404, "NotFoundError");
      expect(body.details).toEqual({ resource: "post", id: post.id });
    }
    const mine = await json<PostJson>(await api(`/v1/posts/${post.id}`, { token: owner.access_token }));
    expect(mine.status).toBe("archived");
    // Still there, and still the owner's to restore.
    const restored = await api(`/v1/posts/${post.id}`, {
      method: "PATCH",
      token: owner.access_token,
      body: { status: "published" },
    });
    expect(restored.status).toBe(200);
    expect((await api(`/v1/posts/${post.id}`)).status).toBe(200);
  });
});

/** Every page of a list, following `next_cursor`. */
async function walkPosts(path: string, token: string | undefined): Promise<PostJson[]> {
  const seen: PostJson[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const separator = path.includes("?") ? "&" : "?";
    const suffix = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
    const response = await api(`${path}${separator}limit=100${suffix}`, { token });
    expect(response.status).toBe(200);
    const result: Page<PostJson> = await json<Page<PostJson>>(response);
    seen.push(...result.data);
    if (result.next_cursor === null) return seen;
    cursor = result.next_cursor;
  }
  throw new Error("pagination did not end");
}

/** Which of a post set the actor may see (§5): published, its own, or all for an admin. */
function visibleIds(world: World, posts: PostSet, author: Session, filter: Status | undefined): string[] {
  const seesAll = world.actorName === "admin" || world.actor?.id === author.id;
  return STATUSES.filter((status) => filter === undefined || filter === status)
    .filter((status) => seesAll || status === "published")
    .map((status) => posts[status].id)
    .sort();
}

describe("lists never show another's drafts or archived posts", () => {
  it.each(ACTORS)("for %s, with every status filter, on every list", async (actorName) => {
    const world = await buildWorld(actorName);
    const authors: { author: Session; posts: PostSet }[] = [{ author: world.owner, posts: world.ownerPosts }];
    if (world.actor && world.ownPosts && world.actor.id !== world.owner.id) {
      authors.push({ author: world.actor, posts: world.ownPosts });
    }
    const viewerId = world.actor?.id;

    for (const filter of [undefined, ...STATUSES]) {
      const statusQuery = filter === undefined ? "" : `status=${filter}`;
      const lists: { path: string; author?: Session }[] = [{ path: `/v1/posts?${statusQuery}` }];
      for (const { author } of authors) {
        lists.push({ path: `/v1/posts?author_id=${author.id}${filter ? `&${statusQuery}` : ""}`, author });
        lists.push({ path: `/v1/users/${author.id}/posts?${statusQuery}`, author });
      }

      for (const { path, author } of lists) {
        const rows = await walkPosts(path, world.token);
        const ids = rows.map((row) => row.id);
        expect(new Set(ids).size, path).toBe(ids.length);
        for (const row of rows) {
          // Nothing hidden anywhere in the list, not only among this world's posts.
          if (actorName !== "admin") {
            expect(row.status === "published" || row.author.id === viewerId, `${path} shows ${row.id}`).toBe(true);
          }
          if (filter) expect(row.status, path).toBe(filter);
          if (author) expect(row.author.id, path).toBe(author.id);
        }
        for (const { author: postsAuthor, posts } of authors) {
          if (author && author.id !== postsAuthor.id) continue;
          const ours = new Set(STATUSES.map((status) => posts[status].id));
          const shown = ids.filter((id) => ours.has(id)).sort();
          expect(shown, path).toEqual(visibleIds(world, posts, postsAuthor, filter));
        }
      }
    }
  });
});
