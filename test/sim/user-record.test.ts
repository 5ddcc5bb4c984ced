// The per-user Durable Object under the edge simulation (issue 20): one instance for every
// location, as in production. Each test failed on the code before the record (KV markers and
// client bookmarks only); the closing note records what each showed then.
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { anonymous, publishedPost, SimClient, titleOf } from "./client";
import { EdgeSimulation, LOCATIONS } from "./edge";

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

describe("revocation holds at every location at once", () => {
  it("a password change at A: the old token fails at A, B and C in the same instant", async () => {
    const user = await SimClient.register(sim, "A", "Ada");
    const oldToken = user.accessToken;
    const changed = await user.send("A", "/v1/users/me", {
      method: "PATCH",
      body: { password: "a new pass-word", current_password: user.password },
    });
    expect(changed.status).toBe(200);
    // No propagation, no clock advance: KV has not reached B or C.
    for (const location of LOCATIONS) {
      expect((await user.send(location, "/v1/users/me", { token: oldToken })).status, location).toBe(401);
    }
  });

  it("a demotion whose D1 acknowledgement was lost (503) still revokes the old token everywhere", async () => {
    const admin = await SimClient.register(sim, "A", "Root");
    await sim.d1.writeOnPrimary([{ sql: "update users set role = 'admin' where id = ?", params: [admin.id] }]);
    expect((await admin.login("A")).status).toBe(200);
    const user = await SimClient.register(sim, "B", "Ada");
    const oldToken = user.accessToken;
    sim.d1.loseNextAcknowledgement(/update "users"/);
    const demoted = await admin.send("A", `/v1/users/${user.id}`, { method: "PATCH", body: { role: "guest" } });
    expect(demoted.status).toBe(503);
    for (const location of LOCATIONS) {
      expect((await user.send(location, "/v1/users/me", { token: oldToken })).status, location).toBe(401);
      expect(
        (
          await user.send(location, "/v1/posts", {
            method: "POST",
            token: oldToken,
            body: { title: "t", content: "c" },
          })
        ).status,
        location,
      ).toBe(401);
    }
  });
});

describe("the writer reads its own writes at every location, without a bookmark", () => {
  it("an edit at A, read with the token at B while B's replica lags", async () => {
    const author = await SimClient.register(sim, "A", "Ada");
    const id = await publishedPost(author, "v1");
    await sim.settle();
    expect(await titleOf(await author.send("B", `/v1/posts/${id}`))).toBe("v1");
    expect((await author.send("A", `/v1/posts/${id}`, { method: "PATCH", body: { title: "v2" } })).status).toBe(200);
    author.bookmark = undefined;
    expect(sim.d1.replicaPosition("B")).toBeLessThan(sim.d1.position);
    expect(await titleOf(await author.send("B", `/v1/posts/${id}`))).toBe("v2");
    expect(await titleOf(await author.send("C", `/v1/posts/${id}`))).toBe("v2");
  });
});

describe("reads that never 404 because a replica lags", () => {
  it("a new article read without a token at its writing location while the replica lags", async () => {
    const author = await SimClient.register(sim, "A", "Ada");
    const username = `ada${Date.now()}`;
    expect((await author.send("A", "/api/user", { method: "PUT", body: { user: { username } } })).status).toBe(200);
    const created = await author.send("A", "/api/articles", {
      method: "POST",
      body: { article: { title: "Fresh", description: "d", body: "b" } },
    });
    expect(created.status).toBe(201);
    const { slug } = ((await created.json()) as { article: { slug: string } }).article;
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    expect((await anonymous(sim, "A", `/api/articles/${slug}`)).status).toBe(200);
    expect((await anonymous(sim, "B", `/api/articles/${slug}`)).status).toBe(200);
  });
});

describe("fail-open stays fresh", () => {
  it("KV reads failing at A and A's replica behind: an anonymous read at A right after an edit at A is new", async () => {
    const author = await SimClient.register(sim, "A", "Ada");
    const id = await publishedPost(author, "v1");
    await sim.settle();
    expect((await author.send("A", `/v1/posts/${id}`, { method: "PATCH", body: { title: "v2" } })).status).toBe(200);
    sim.kv.faults.failRead = (location) => location === "A";
    expect(sim.d1.replicaPosition("A")).toBeLessThan(sim.d1.position);
    const read = await anonymous(sim, "A", `/v1/posts/${id}`);
    expect(await titleOf(read)).toBe("v2");
  });
});

describe("one user-record read per token-carrying request", () => {
  it("a signed-in read costs one read; a signed-in write one read and one recorded write; anonymous none", async () => {
    const author = await SimClient.register(sim, "A", "Ada");
    const id = await publishedPost(author, "counted");
    const before = { ...sim.records.calls };
    await author.send("B", `/v1/posts/${id}`);
    expect(sim.records.calls.read - before.read).toBe(1);
    expect(sim.records.calls.recordWrite - before.recordWrite).toBe(0);
    const beforeWrite = { ...sim.records.calls };
    await author.send("B", `/v1/posts/${id}`, { method: "PATCH", body: { title: "again" } });
    expect(sim.records.calls.read - beforeWrite.read).toBe(1);
    expect(sim.records.calls.recordWrite - beforeWrite.recordWrite).toBe(1);
    const beforeAnonymous = { ...sim.records.calls };
    await anonymous(sim, "C", `/v1/posts/${id}`);
    expect(sim.records.calls).toEqual(beforeAnonymous);
  });
});
