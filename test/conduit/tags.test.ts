import { describe, expect, it } from "vitest";
import { json } from "../helpers";
import { conduit, createArticle, errorsOf, registerConduitAdmin, registerConduitUser, uniqueTag } from "./helpers";

/**
 * Tests in this file share one D1, so each looks only at its own tags, and every tag a test
 * expects to see is used at least twice (tags used once may fall past the 100 cap once the cap
 * test has added its 105).
 */
async function tags(token?: string): Promise<string[]> {
  const response = await conduit("/tags", { token });
  expect(response.status).toBe(200);
  const body = await json<{ tags: string[] }>(response);
  expect(Object.keys(body)).toEqual(["tags"]);
  expect(Array.isArray(body.tags)).toBe(true);
  for (const tag of body.tags) expect(typeof tag).toBe("string");
  return body.tags;
}

function ours(all: string[], prefix: string): string[] {
  return all.filter((tag) => tag.startsWith(prefix));
}

describe("GET /api/tags", () => {
  it("lists the tags of published articles, each once", async () => {
    const author = await registerConduitUser();
    const p = uniqueTag("list");
    await createArticle(author.token, { tagList: [`${p}-x`, `${p}-y`] });
    await createArticle(author.token, { tagList: [`${p}-y`, `${p}-x`] });
    const all = await tags();
    expect(ours(all, p).sort()).toEqual([`${p}-x`, `${p}-y`]);
    expect(new Set(all).size).toBe(all.length);
  });

  it("most used first, then by name", async () => {
    const [a, b] = [await registerConduitUser(), await registerConduitUser()];
    const p = uniqueTag("rank");
    // counts: c 4, b 3, a 3, d 2
    await createArticle(a.token, { tagList: [`${p}-c`, `${p}-b`, `${p}-a`, `${p}-d`] });
    await createArticle(b.token, { tagList: [`${p}-c`, `${p}-b`, `${p}-a`, `${p}-d`] });
    await createArticle(a.token, { tagList: [`${p}-c`, `${p}-b`, `${p}-a`] });
    await createArticle(b.token, { tagList: [`${p}-c`] });
    expect(ours(await tags(), p)).toEqual([`${p}-c`, `${p}-a`, `${p}-b`, `${p}-d`]);
  });

  it("a tag whose only articles are archived or deleted is gone; one still used stays", async () => {
    const author = await registerConduitUser();
    const admin = await registerConduitAdmin();
    const p = uniqueTag("gone");
    const archived = [
      await createArticle(author.token, { tagList: [`${p}-archived`, `${p}-shared`] }),
      await createArticle(author.token, { tagList: [`${p}-archived`] }),
    ];
    const deleted = [
      await createArticle(author.token, { tagList: [`${p}-deleted`, `${p}-shared`] }),
      await createArticle(author.token, { tagList: [`${p}-deleted`] }),
    ];
    await createArticle(author.token, { tagList: [`${p}-shared`] });
    await createArticle(author.token, { tagList: [`${p}-shared`] });
    expect(ours(await tags(), p).sort()).toEqual([`${p}-archived`, `${p}-deleted`, `${p}-shared`]);
    for (const article of archived) {
      expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    }
    for (const article of deleted) {
      expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    }
    expect(ours(await tags(), p)).toEqual([`${p}-shared`]);
  });

  it("a tag dropped by an edit is gone", async () => {
    const author = await registerConduitUser();
    const p = uniqueTag("edit");
    const one = await createArticle(author.token, { tagList: [`${p}-old`, `${p}-new`] });
    const two = await createArticle(author.token, { tagList: [`${p}-old`, `${p}-new`] });
    for (const slug of [one.slug, two.slug]) {
      const put = await conduit(`/articles/${slug}`, {
        method: "PUT",
        token: author.token,
        body: { article: { tagList: [`${p}-new`] } },
      });
      expect(put.status).toBe(200);
    }
    expect(ours(await tags(), p)).toEqual([`${p}-new`]);
  });

  it("at most 100 tags", async () => {
    const author = await registerConduitUser();
    const p = uniqueTag("cap");
    for (let batch = 0; batch < 11; batch++) {
      const tagList = Array.from({ length: 10 }, (_, i) => `${p}-${String(batch * 10 + i).padStart(3, "0")}`);
      await createArticle(author.token, { tagList });
    }
    const all = await tags();
    expect(all).toHaveLength(100);
    expect(new Set(all).size).toBe(100);
  });

  it("answers with a token too (same tags); a bad token → 401", async () => {
    const author = await registerConduitUser();
    const p = uniqueTag("auth");
    await createArticle(author.token, { tagList: [`${p}-t`] });
    await createArticle(author.token, { tagList: [`${p}-t`] });
    expect(ours(await tags(author.token), p)).toEqual([`${p}-t`]);
    await errorsOf(await conduit("/tags", { token: "garbage" }), 401);
  });
});
