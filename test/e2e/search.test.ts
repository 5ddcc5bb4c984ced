// Full-text search against the wrangler dev that global-setup.ts starts, through the recording
// proxy (so every answer is checked against /openapi.json): `GET /v1/posts/search` anonymously
// (cached) and as the author (drafts), hostile and invalid `q`, and the `/api/articles?search=`
// extension. Registers one account (REGISTER_IP_LIMITER allows 20 a minute locally) and deletes it
// again; the local database outlives a run, so the searched word is unique to this run.
import { describe, expect, it } from "vitest";
import { call } from "./http";

type Hit = { id: string; status: string; snippet: string };

describe("search under wrangler dev", () => {
  it("finds a new post at once, caches anonymous pages, shows drafts to their author, survives hostile q", async () => {
    const term = `zephyr${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const email = `e2e-search-${Date.now()}@example.com`;
    const registered = await call("/v1/auth/register", {
      method: "POST",
      body: { email, name: "Searcher", password: "e2e search pw 1" },
    });
    expect(registered.status, registered.text).toBe(201);
    const token = String(registered.body.access_token);

    const path = `/v1/posts/search?q=${encodeURIComponent(term.slice(0, -2))}`;
    const empty = await call(path);
    expect(empty.status, empty.text).toBe(200);
    expect(empty.body.data).toEqual([]);

    const published = await call("/v1/posts", {
      method: "POST",
      token,
      body: { title: `On the ${term}`, content: `A <b>warm</b> ${term} from the west`, status: "published" },
    });
    expect(published.status, published.text).toBe(201);
    const draft = await call("/v1/posts", {
      method: "POST",
      token,
      body: { title: "Draft", content: `Notes about ${term}`, status: "draft" },
    });
    expect(draft.status, draft.text).toBe(201);

    const found = await call(path);
    expect(found.status, found.text).toBe(200);
    const hits = found.body.data as Hit[];
    expect(hits.map((hit) => hit.id)).toEqual([published.body.id]);
    expect(hits[0]?.snippet).toBe(`On the <mark>${term}</mark>`);
    expect(found.body.next_offset).toBeNull();
    expect(found.headers.get("Cache-Control")).toBe("public, max-age=30");
    const again = await call(path);
    expect(again.headers.get("X-Cache")).toBe("HIT");

    const own = await call(`${path}&status=draft`, { token });
    expect(own.status, own.text).toBe(200);
    expect((own.body.data as Hit[]).map((hit) => hit.id)).toEqual([draft.body.id]);
    expect(own.headers.get("Cache-Control")).toBe("private, no-store");

    for (const q of [`"${term}`, `title:${term}`, `NEAR(${term} x)`, "((", "*", "😀 é"]) {
      const response = await call(`/v1/posts/search?q=${encodeURIComponent(q)}&limit=5&offset=0`);
      expect(response.status, `${q}: ${response.text}`).toBe(200);
    }
    for (const query of ["q=", `q=${"a".repeat(201)}`, "q=a&offset=1001", "q=a&limit=0"]) {
      const response = await call(`/v1/posts/search?${query}`);
      expect(response.status, response.text).toBe(400);
      expect(response.body.type).toBe("ValidationError");
    }

    const articles = await call(`/api/articles?search=${encodeURIComponent(term)}`);
    expect(articles.status, articles.text).toBe(200);
    expect(articles.body.articlesCount).toBe(1);
    const tooLong = await call(`/api/articles?search=${"a".repeat(201)}`);
    expect(tooLong.status, tooLong.text).toBe(422);

    expect((await call("/v1/users/me", { method: "DELETE", token })).status).toBe(204);
    const gone = await call(`${path}&limit=5`);
    expect(gone.body.data).toEqual([]);
  });
});
