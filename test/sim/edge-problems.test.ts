// One test per problem the edge simulation was built to expose (issue: edge correctness). Each
// failed on the code before the fix; the closing note records what each showed then.
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { LIST_GENERATION_SHARDS } from "../../src/cache/keys";
import { anonymous, publishedPost, SimClient, titleOf } from "./client";
import { EdgeSimulation } from "./edge";

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

async function titlesOf(response: Response): Promise<string[]> {
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: { title: string }[] }).data.map((post) => post.title).sort();
}

describe("1. a lagging replica cannot poison the cache", () => {
  it("an edit at A is read back at A while A's replica lags, and stays after it catches up", async () => {
    const author = await SimClient.register(sim, "A", "Ada");
    const id = await publishedPost(author, "v1");
    await sim.settle();
    expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("v1");

    expect((await author.send("A", `/v1/posts/${id}`, { method: "PATCH", body: { title: "v2" } })).status).toBe(200);
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    for (let read = 0; read < 2; read++) {
      expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("v2");
    }
    await sim.d1.catchUpAll();
    expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("v2");
  });

  it("an unpublished post is not served from the stale replica, nor cached from it", async () => {
    const author = await SimClient.register(sim, "A", "Ada");
    const id = await publishedPost(author, "soon private");
    await sim.settle();
    expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("soon private");
    expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual(["soon private"]);

    await author.send("A", `/v1/posts/${id}`, { method: "PATCH", body: { status: "draft" } });
    expect((await anonymous(sim, "A", `/v1/posts/${id}`)).status).toBe(404);
    expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual([]);
    await sim.d1.catchUpAll();
    expect((await anonymous(sim, "A", `/v1/posts/${id}`)).status).toBe(404);
    expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual([]);
  });
});

describe("2. invalidations are never lost, and scoped to what changed", () => {
  it("more public edits within one second than the list generation has shards all show at once", async () => {
    const authors = [];
    for (let n = 0; n < LIST_GENERATION_SHARDS + 2; n++)
      authors.push(await SimClient.register(sim, "A", `Author ${n}`));
    const ids = [];
    for (const [n, author] of authors.entries()) ids.push(await publishedPost(author, `post ${n} v1`));
    await sim.settle();
    const expected = authors.map((_, n) => `post ${n} v1`);
    expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual([...expected].sort());

    for (const [n, author] of authors.entries()) {
      const edit = await author.send("A", `/v1/posts/${ids[n]}`, { method: "PATCH", body: { title: `post ${n} v2` } });
      expect(edit.status).toBe(200);
      expected[n] = `post ${n} v2`;
      // Read (and refill) the list between the edits, as traffic would.
      expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual([...expected].sort());
    }
    expect(sim.kv.refusedWrites).toBeGreaterThan(0);
  });

  it("two edits of one post within a second: the second shows at once where it was made", async () => {
    // The post's generation takes one write per second; the second edit's bump is refused at first.
    const author = await SimClient.register(sim, "A", "Ada");
    const id = await publishedPost(author, "v1");
    await sim.settle();
    expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("v1");
    expect((await author.send("A", `/v1/posts/${id}`, { method: "PATCH", body: { title: "v2" } })).status).toBe(200);
    expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("v2");
    expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("v2");
    const refusedBefore = sim.kv.refusedWrites;
    expect((await author.send("A", `/v1/posts/${id}`, { method: "PATCH", body: { title: "v3" } })).status).toBe(200);
    expect(sim.kv.refusedWrites).toBeGreaterThan(refusedBefore);
    expect(await titleOf(await anonymous(sim, "A", `/v1/posts/${id}`))).toBe("v3");
  });

  it("a create whose D1 acknowledgement was lost still retires the lists, and the retry makes one post", async () => {
    const author = await SimClient.register(sim, "A", "Ada");
    await sim.settle();
    expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual([]);

    sim.d1.loseNextAcknowledgement(/^insert into "posts"/i);
    const body = { title: "exactly once", content: "c", status: "published" };
    expect((await author.createPost("A", body, "key-1")).status).toBe(503);
    expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual(["exactly once"]);
    const retry = await author.createPost("A", body, "key-1");
    expect(retry.status).toBe(201);
    const count = await sim.d1.primary
      .prepare("select count(*) as n from posts where author_id = ? and title = ?")
      .bind(author.id, "exactly once")
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
    expect(await titlesOf(await anonymous(sim, "A", "/v1/posts"))).toEqual(["exactly once"]);
  });

  it("a post this location never read shows its author's new name where the rename was made", async () => {
    const author = await SimClient.register(sim, "A", "Before");
    const id = await publishedPost(author, "never read");
    await sim.settle();
    expect((await author.send("A", "/v1/users/me", { method: "PATCH", body: { name: "After" } })).status).toBe(200);
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    const read = await anonymous(sim, "A", `/v1/posts/${id}`);
    expect(((await read.json()) as { author: { name: string } }).author.name).toBe("After");
  });

  it("renaming one author does not retire the cached posts of another", async () => {
    const renamed = await SimClient.register(sim, "A", "Before");
    const other = await SimClient.register(sim, "A", "Other");
    const renamedPost = await publishedPost(renamed, "by renamed");
    const otherPost = await publishedPost(other, "by other");
    await sim.settle();
    for (const id of [renamedPost, otherPost]) await anonymous(sim, "A", `/v1/posts/${id}`);

    expect((await renamed.send("A", "/v1/users/me", { method: "PATCH", body: { name: "After" } })).status).toBe(200);
    const untouched = await anonymous(sim, "A", `/v1/posts/${otherPost}`);
    expect(untouched.headers.get("X-Cache")).toBe("HIT");
    const touched = await anonymous(sim, "A", `/v1/posts/${renamedPost}`);
    expect(((await touched.json()) as { author: { name: string } }).author.name).toBe("After");
  });
});

describe("3. revocation has no gaps", () => {
  it("a refresh that commits while a password change is in flight gets no surviving access token", async () => {
    const user = await SimClient.register(sim, "A", "Ada");
    const racer = await SimClient.register(sim, "A", "unused");
    racer.refreshToken = user.refreshToken;
    let raced = false;
    sim.d1.faults.beforeWrite = async (statements) => {
      if (raced || !statements.some((s) => /^update "users" set .*"password_hash"/i.test(s.sql))) return;
      raced = true;
      expect((await racer.refresh("B")).status).toBe(200);
    };
    const change = await user.send("A", "/v1/users/me", {
      method: "PATCH",
      body: { password: "new-pass-word", current_password: user.password },
    });
    expect(change.status).toBe(200);
    expect(raced).toBe(true);
    const withRacedToken = await racer.send("A", "/v1/users/me");
    expect(withRacedToken.status).toBe(401);
    expect((await racer.refresh("A")).status).toBe(401);
  });

  it("the password change and the end of the sessions commit together or not at all", async () => {
    const user = await SimClient.register(sim, "A", "Ada");
    sim.d1.faults.beforeWrite = async (statements) => {
      if (statements.some((s) => /^update "refresh_tokens"/i.test(s.sql))) {
        throw new Error("D1_ERROR: Network connection lost. (injected)");
      }
    };
    const change = await user.send("A", "/v1/users/me", {
      method: "PATCH",
      body: { password: "new-pass-word", current_password: user.password },
    });
    expect(change.status).toBe(503);
    sim.d1.faults = {};
    const newPasswordWorks =
      (
        await sim.fetch("A", "/v1/auth/login", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ email: user.email, password: "new-pass-word" }),
        })
      ).status === 200;
    const oldSessionWorks = (await user.refresh("A")).status === 200;
    // Either both happened (new password, sessions ended) or neither.
    expect(newPasswordWorks).toBe(!oldSessionWorks);
  });

  it("a revocation the user record refused is made by the admin's retry of the same request", async () => {
    const admin = await SimClient.register(sim, "A", "Root");
    await sim.d1.writeOnPrimary([{ sql: "update users set role = 'admin' where id = ?", params: [admin.id] }]);
    expect((await admin.login("A")).status).toBe(200);
    const user = await SimClient.register(sim, "A", "Ada");
    const oldToken = user.accessToken;

    sim.records.refused.add("endSessions");
    const first = await admin.send("A", `/v1/users/${user.id}`, { method: "PATCH", body: { role: "guest" } });
    expect(first.status).toBe(503);
    expect(((await first.json()) as { details: unknown }).details).toEqual({
      dependency: "user_record",
      reason: "revocation_pending",
    });
    sim.records.refused.clear();
    const retry = await admin.send("A", `/v1/users/${user.id}`, { method: "PATCH", body: { role: "guest" } });
    expect(retry.status).toBe(200);
    expect((await user.send("A", "/v1/users/me", { token: oldToken })).status).toBe(401);
  });
});

describe("4. personal responses are never stored", () => {
  it("token-carrying bodies, /v1/users/* and errors to a signed request are private, no-store", async () => {
    const user = await SimClient.register(sim, "A", "Ada");
    const responses = [
      await user.send("A", "/v1/auth/register", {
        method: "POST",
        body: { email: `x${user.email}`, name: "X", password: "pass-word-1" },
        token: null,
      }),
      await user.login("A"),
      await user.refresh("A"),
      await user.send("A", "/v1/users/me"),
      await user.send("A", `/v1/users/${user.id}`),
      await anonymous(sim, "A", `/v1/users/${user.id}`),
      await user.send("A", "/v1/posts/nope"),
      await user.send("A", "/v1/users"),
    ];
    for (const response of responses) expect(response.headers.get("Cache-Control")).toBe("private, no-store");
  });
});
