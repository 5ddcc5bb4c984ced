// Cache hit rate under one author rename per second (issue: invalidation scoped to what
// changed). Before scoping, every cached post depended on one global authors generation, so
// each rename retired every cached post of every author; the closing note gives both figures.
import { expect, it, vi } from "vitest";
import { anonymous, SimClient } from "./client";
import { EdgeSimulation } from "./edge";

// The app's KV retry pauses move the simulation's clock instead of waiting (simulated-pauses.ts).
vi.mock("../../src/lib/kv-write", async (original) =>
  (await import("./simulated-pauses")).withSimulatedPauses(original),
);

const AUTHORS = 10;
const POSTS_PER_AUTHOR = 5;
const SECONDS = 20;
const READS_PER_SECOND = 15;

it("a rename per second leaves the other authors' cached posts alone", async () => {
  const sim = await EdgeSimulation.create();
  const authors = [];
  const ids: string[] = [];
  for (let a = 0; a < AUTHORS; a++) {
    const author = await SimClient.register(sim, "A", `Author ${a}`);
    authors.push(author);
    for (let p = 0; p < POSTS_PER_AUTHOR; p++) {
      const created = await author.createPost("A", { title: `p${a}.${p}`, content: "c", status: "published" });
      ids.push(((await created.json()) as { id: string }).id);
      // One author's public writes move its list generation: KV takes one such write a second.
      sim.clock.advance(1000);
    }
  }
  await sim.settle();
  let seed = 42;
  const next = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed;
  };
  let hits = 0;
  for (let second = 0; second < SECONDS; second++) {
    const renamed = authors[second % AUTHORS] as SimClient;
    const rename = await renamed.send("A", "/v1/users/me", { method: "PATCH", body: { name: `Renamed ${second}` } });
    expect(rename.status).toBe(200);
    for (let read = 0; read < READS_PER_SECOND; read++) {
      const response = await anonymous(sim, "A", `/v1/posts/${ids[next() % ids.length]}`);
      expect(response.status).toBe(200);
      if (response.headers.get("X-Cache") === "HIT") hits += 1;
    }
    sim.clock.advance(1000);
  }
  const rate = hits / (SECONDS * READS_PER_SECOND);
  console.log(
    `hit rate with one rename per second: ${(rate * 100).toFixed(1)} % of ${SECONDS * READS_PER_SECOND} reads`,
  );
  // 50 posts, 15 reads a second: many reads are first reads (fills); with
  // scoping, a rename retires 5 of 50 entries, without it all 50.
  expect(rate).toBeGreaterThan(0.5);
});
