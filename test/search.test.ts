import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  conduit,
  conduitSettled,
  createArticle,
  errorsOf,
  expectIssues as expectConduitIssues,
  registerConduitUser,
  setConduitRole,
} from "./conduit/helpers";
import {
  api,
  BASE,
  createAdmin,
  createPost,
  createUser,
  expectError,
  expectIssues,
  fetchSettled,
  json,
  type Session,
} from "./helpers";

type Hit = { id: string; title: string; status: string; author: { id: string; name: string }; snippet: string };
type SearchPage = { data: Hit[]; next_offset: number | null };

/** A word no other test uses, so each test's posts are the only ones its searches can find. */
function word(prefix = "w"): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

function searchPath(q: string, extra = ""): string {
  return `/v1/posts/search?q=${encodeURIComponent(q)}${extra}`;
}

async function search(q: string, session?: Session, extra = ""): Promise<SearchPage> {
  const response = await api(searchPath(q, extra), { token: session?.access_token });
  expect(response.status, await response.clone().text()).toBe(200);
  return json<SearchPage>(response);
}

async function ids(q: string, session?: Session, extra = ""): Promise<string[]> {
  return (await search(q, session, extra)).data.map((hit) => hit.id);
}

function call(path: string, init: RequestInit = {}) {
  return fetchSettled(new Request(`${BASE}${path}`, init));
}

/** What the index itself holds for a word: rowids that match, whether or not a post still has them. */
async function indexed(term: string): Promise<number> {
  const row = await env.DB.prepare("select count(*) as n from posts_fts where posts_fts match ?")
    .bind(`"${term}"`)
    .first<{ n: number }>();
  return row?.n ?? -1;
}

/** FTS5's own check that the index agrees with the `posts` rows (throws if not). */
async function integrityCheck(): Promise<void> {
  await env.DB.prepare("insert into posts_fts(posts_fts, rank) values('integrity-check', 1)").run();
}

describe("GET /v1/posts/search", () => {
  it("finds by title and content, a title match above a content match, ties newest first", async () => {
    const author = await createUser();
    const term = word();
    const inContentOld = await createPost(author.access_token, {
      title: "Unrelated",
      content: `old ${term} here`,
      status: "published",
    });
    const inContentNew = await createPost(author.access_token, {
      title: "Unrelated",
      content: `new ${term} here`,
      status: "published",
    });
    const inTitle = await createPost(author.access_token, {
      title: `About ${term}`,
      content: "nothing else",
      status: "published",
    });
    await createPost(author.access_token, { title: "Other", content: "no match", status: "published" });
    expect(await ids(term)).toEqual([inTitle.id, inContentNew.id, inContentOld.id]);
  });

  it("each hit is a list item plus a snippet; the response is the list's page shape with next_offset", async () => {
    const author = await createUser({ name: "Snippet Author" });
    const term = word();
    const post = await createPost(author.access_token, {
      title: "Plain",
      content: `before ${term} after`,
      status: "published",
    });
    const page = await search(term);
    const list = await json<{ data: Record<string, unknown>[] }>(await api(`/v1/posts?author_id=${author.id}`));
    const { snippet, ...item } = page.data[0] as Hit & Record<string, unknown>;
    expect(item).toEqual(list.data.find((entry) => entry.id === post.id));
    expect(snippet).toBe(`before <mark>${term}</mark> after`);
    expect(page.next_offset).toBeNull();
  });

  it("ignores case and accents, in the text and in the query", async () => {
    const author = await createUser();
    const suffix = word("");
    const post = await createPost(author.access_token, {
      title: `Crème brûlée ${suffix}`,
      // Decomposed (NFD) accents in the stored text.
      content: `Ame\u0301lie a\u0300 Paris ${suffix}`,
      status: "published",
    });
    for (const q of ["creme brulee", "CRÈME BRÛLÉE", "Cre\u0300me", "amelie", "AMÉLIE à", "ámélîe"]) {
      expect(await ids(`${q} ${suffix}`), q).toEqual([post.id]);
    }
  });

  it("matches the last word as a prefix (search as you type), the others as whole words", async () => {
    const author = await createUser();
    const stem = word("dragon");
    const post = await createPost(author.access_token, {
      title: `${stem}s fly`,
      content: "over the hills",
      status: "published",
    });
    expect(await ids(`fly ${stem.slice(0, -3)}`)).toEqual([post.id]);
    expect(await ids(`${stem.slice(0, -3)} fly`)).toEqual([]);
    expect(await ids(`${stem}s hil`)).toEqual([post.id]);
    expect(await ids(`${stem}s hills`)).toEqual([post.id]);
  });

  it("the snippet escapes the text and marks only the matches", async () => {
    const author = await createUser();
    const term = word();
    await createPost(author.access_token, {
      title: "Escaping",
      content: `<script>alert("x")</script> & 'quotes' ${term} <b>bold</b>`,
      status: "published",
    });
    const [hit] = (await search(term)).data;
    expect(hit?.snippet).toBe(
      `&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; <mark>${term}</mark> &lt;b&gt;bold&lt;/b&gt;`,
    );
  });

  it("text holding the marker characters cannot unbalance the markup", async () => {
    const author = await createUser();
    const term = word();
    await createPost(author.access_token, {
      title: "Markers",
      content: `\u{E001}\u{E000}x ${term} \u{E000}y\u{E001}\u{E001}`,
      status: "published",
    });
    const [hit] = (await search(term)).data;
    const snippet = hit?.snippet ?? "";
    // The stray markers may misplace a highlight, but the markup stays balanced and is only <mark>.
    expect(snippet).toMatch(new RegExp(`<mark>[^<]*${term}</mark>`));
    expect(snippet).toMatch(/^[^<>]*(<mark>[^<>]*<\/mark>[^<>]*)*$/);
  });

  it("long text gives a short snippet around the match, with ellipses", async () => {
    const author = await createUser();
    const term = word();
    const filler = Array.from({ length: 200 }, (_, i) => `filler${i}`).join(" ");
    await createPost(author.access_token, {
      title: "Long",
      content: `${filler} ${term} ${filler}`,
      status: "published",
    });
    const [hit] = (await search(term)).data;
    expect(hit?.snippet).toMatch(new RegExp(`^….*<mark>${term}</mark>.*…$`));
    expect(hit?.snippet.length).toBeLessThan(300);
  });
});

describe("GET /v1/posts/search: visibility and filters", () => {
  async function setup() {
    const term = word();
    const alice = await createUser({ name: "Alice" });
    const bob = await createUser({ name: "Bob" });
    const content = `text ${term}`;
    const alicePublished = await createPost(alice.access_token, { title: "A1", content, status: "published" });
    const aliceDraft = await createPost(alice.access_token, { title: "A2", content, status: "draft" });
    const aliceArchived = await createPost(alice.access_token, { title: "A3", content, status: "archived" });
    const bobPublished = await createPost(bob.access_token, { title: "B1", content, status: "published" });
    const bobDraft = await createPost(bob.access_token, { title: "B2", content, status: "draft" });
    return { term, alice, bob, alicePublished, aliceDraft, aliceArchived, bobPublished, bobDraft };
  }
  const sorted = (list: string[]) => [...list].sort();

  it("anonymous callers find published posts only", async () => {
    const s = await setup();
    expect(sorted(await ids(s.term))).toEqual(sorted([s.alicePublished.id, s.bobPublished.id]));
    expect(await ids(s.term, undefined, "&status=draft")).toEqual([]);
  });

  it("an author also finds their own drafts and archived posts, never another's", async () => {
    const s = await setup();
    expect(sorted(await ids(s.term, s.alice))).toEqual(
      sorted([s.alicePublished.id, s.aliceDraft.id, s.aliceArchived.id, s.bobPublished.id]),
    );
    expect(await ids(s.term, s.alice, "&status=draft")).toEqual([s.aliceDraft.id]);
    expect(await ids(s.term, s.alice, `&author_id=${s.bob.id}`)).toEqual([s.bobPublished.id]);
    expect(await ids(s.term, s.alice, `&author_id=${s.bob.id}&status=draft`)).toEqual([]);
    expect(sorted(await ids(s.term, s.alice, `&author_id=${s.alice.id}`))).toEqual(
      sorted([s.alicePublished.id, s.aliceDraft.id, s.aliceArchived.id]),
    );
  });

  it("admins find everything; status and author_id narrow it", async () => {
    const s = await setup();
    const admin = await createAdmin();
    expect((await ids(s.term, admin)).length).toBe(5);
    expect(sorted(await ids(s.term, admin, "&status=draft"))).toEqual(sorted([s.aliceDraft.id, s.bobDraft.id]));
    expect(await ids(s.term, admin, `&author_id=${s.bob.id}&status=draft`)).toEqual([s.bobDraft.id]);
    expect(await ids(s.term, admin, "&status=archived")).toEqual([s.aliceArchived.id]);
  });
});

describe("GET /v1/posts/search: paging", () => {
  it("offset paging with the list's limits; next_offset until the end", async () => {
    const author = await createUser();
    const term = word();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      made.push((await createPost(author.access_token, { title: "P", content: term, status: "published" })).id);
    }
    const first = await search(term, undefined, "&limit=2");
    expect(first.data.map((hit) => hit.id)).toEqual([made[4], made[3]]);
    expect(first.next_offset).toBe(2);
    const second = await search(term, undefined, "&limit=2&offset=2");
    expect(second.data.map((hit) => hit.id)).toEqual([made[2], made[1]]);
    const last = await search(term, undefined, "&limit=2&offset=4");
    expect(last.data.map((hit) => hit.id)).toEqual([made[0]]);
    expect(last.next_offset).toBeNull();
    expect((await search(term, undefined, "&offset=1000")).data).toEqual([]);
  });

  it("refuses limits and offsets out of range, and unknown parameters", async () => {
    await expectIssues(await api(searchPath("x", "&limit=0")), ["limit"]);
    await expectIssues(await api(searchPath("x", "&limit=101")), ["limit"]);
    await expectIssues(await api(searchPath("x", "&offset=1001")), ["offset"]);
    await expectIssues(await api(searchPath("x", "&offset=-1")), ["offset"]);
    await expectIssues(await api(searchPath("x", "&cursor=abc")), ["cursor"]);
    await expectIssues(await api(searchPath("x", "&status=deleted")), ["status"]);
  });
});

describe("GET /v1/posts/search: q", () => {
  it("an empty, blank, missing or over-long q is a 400 ValidationError naming q", async () => {
    await expectIssues(await api("/v1/posts/search"), ["q"]);
    await expectIssues(await api("/v1/posts/search?q="), ["q"]);
    await expectIssues(await api(searchPath("   ")), ["q"]);
    await expectIssues(await api(searchPath("a".repeat(201))), ["q"]);
    await expectIssues(await api(searchPath("x".repeat(10_240))), ["q"]);
    await expectIssues(await api(searchPath("a\u0000b")), ["q"]);
    await expectIssues(await api(searchPath("\uFEFF")), ["q"]);
    expect((await api(searchPath("a".repeat(200)))).status).toBe(200);
  });

  it("query syntax in q is plain text: no column filters, NEAR, OR, NOT or operators", async () => {
    const author = await createUser();
    const term = word();
    const post = await createPost(author.access_token, {
      title: term,
      content: `near the end, or not, ${term}`,
      status: "published",
    });
    // As FTS5 syntax each of these would match `post`; as words ("title", "near", "or"...) they
    // only match when the post has those words too.
    expect(await ids(`title:${term}`)).toEqual([]);
    expect(await ids(`{title}:${term}`)).toEqual([]);
    expect(await ids(`${term} OR zzzzunmatched`)).toEqual([]);
    expect(await ids(`${term} NOT zzzzunmatched`)).toEqual([]);
    expect(await ids(`NEAR(${term} zzzzunmatched)`)).toEqual([]);
    expect(await ids(`zzzzunmatched*`)).toEqual([]);
    // Words that happen to be operator names are searched as words.
    expect(await ids(`near ${term}`)).toEqual([post.id]);
    expect(await ids(`or not ${term}`)).toEqual([post.id]);
    expect(await ids(`"${term}"`)).toEqual([post.id]);
    expect(await ids(`(${term}`)).toEqual([post.id]);
    expect(await ids(`${term}*`)).toEqual([post.id]);
    expect(await ids(`^${term}`)).toEqual([post.id]);
  });

  it("hostile input never fails: quotes, operators, parentheses, Unicode, no word at all", async () => {
    const hostile = [
      '"',
      '""',
      '"""',
      "'",
      "*",
      "**",
      "a*",
      "*a",
      "NEAR",
      "NEAR(",
      "NEAR(a b, 2)",
      "NEAR(a b, -1)",
      "title:",
      "title:a",
      "content:a",
      "rank:a",
      "posts_fts:a",
      "{title content}:a",
      "-title:a",
      "(",
      ")",
      "((((a",
      "a))))",
      "(a OR b",
      "AND",
      "OR",
      "NOT",
      "a AND",
      "NOT a",
      "a + b",
      "^",
      "^a",
      ":",
      "::",
      "\\",
      '\\"',
      'a"b',
      "%",
      "_",
      "'); drop table posts; --",
      "😀",
      "😀 dragons",
      "\u202edragons",
      "e\u0301",
      "\u0301",
      "日本語",
      "ﬁnance",
      "\u00a0a\u00a0",
      "a\tb\nc",
      "\u200b",
      "\u{E000}a\u{E001}",
      "a".repeat(200),
      "a ".repeat(100),
      '" '.repeat(100),
      "é".repeat(200),
    ];
    for (const q of hostile) {
      const response = await api(searchPath(q));
      expect(response.status, `q=${JSON.stringify(q)}: ${await response.clone().text()}`).toBe(200);
      const page = await json<SearchPage>(response);
      expect(Array.isArray(page.data)).toBe(true);
    }
  });
});

describe("GET /v1/posts/search: the index is exact after every write", () => {
  it("create, edit, publish, unpublish, archive and delete show at once", async () => {
    const author = await createUser();
    const admin = await createAdmin();
    const before = word();
    const after = word();
    const post = await createPost(author.access_token, { title: `T ${before}`, content: "c", status: "draft" });
    expect(await ids(before, author)).toEqual([post.id]);
    expect(await ids(before)).toEqual([]);

    const patch = (body: Record<string, unknown>) =>
      api(`/v1/posts/${post.id}`, { method: "PATCH", token: author.access_token, body });
    expect((await patch({ status: "published" })).status).toBe(200);
    expect(await ids(before)).toEqual([post.id]);

    expect((await patch({ title: `T ${after}` })).status).toBe(200);
    expect(await ids(before, admin)).toEqual([]);
    expect(await ids(after)).toEqual([post.id]);
    expect((await patch({ content: `body ${before}` })).status).toBe(200);
    expect(await ids(before)).toEqual([post.id]);
    expect((await search(before)).data[0]?.snippet).toBe(`body <mark>${before}</mark>`);

    expect((await patch({ status: "draft" })).status).toBe(200);
    expect(await ids(after)).toEqual([]);
    expect(await ids(after, author)).toEqual([post.id]);
    expect((await patch({ status: "archived" })).status).toBe(200);
    expect(await ids(after)).toEqual([]);
    expect(await ids(after, author, "&status=archived")).toEqual([post.id]);

    const deleted = await api(`/v1/posts/${post.id}`, { method: "DELETE", token: admin.access_token });
    expect(deleted.status).toBe(204);
    expect(await ids(after, admin)).toEqual([]);
    expect(await indexed(after)).toBe(0);
    expect(await indexed(before)).toBe(0);
    await integrityCheck();
  });

  it("deleting an account removes its posts from the index (the cascade fires the trigger)", async () => {
    const author = await createUser();
    const term = word();
    await createPost(author.access_token, { title: term, content: "c", status: "published" });
    await createPost(author.access_token, { title: "d", content: term, status: "draft" });
    expect(await indexed(term)).toBe(2);
    expect((await api("/v1/users/me", { method: "DELETE", token: author.access_token })).status).toBe(204);
    expect(await indexed(term)).toBe(0);
    expect(await ids(term, await createAdmin())).toEqual([]);
    await integrityCheck();
  });

  it("RealWorld writes (create, update, delete an article) keep it exact too", async () => {
    const user = await registerConduitUser();
    const first = word();
    const second = word();
    const article = await createArticle(user.token, { title: `Article ${first}`, body: "body" });
    expect(await ids(first)).toHaveLength(1);
    const updated = await conduit(`/articles/${article.slug}`, {
      method: "PUT",
      token: user.token,
      body: { article: { body: `now ${second}` } },
    });
    expect(updated.status).toBe(200);
    expect(await ids(second)).toHaveLength(1);
    // A user's DELETE archives the article; an admin's deletes the post.
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: user.token })).status).toBe(204);
    expect(await ids(second)).toEqual([]);
    const admin = await createAdmin();
    expect((await search(second, admin)).data.map((hit) => hit.status)).toEqual(["archived"]);
    const promoted = await setConduitRole(user, "admin");
    const third = word();
    const other = await createArticle(promoted.token, { title: `Article ${third}`, body: "body" });
    expect(await indexed(third)).toBe(1);
    expect((await conduit(`/articles/${other.slug}`, { method: "DELETE", token: promoted.token })).status).toBe(204);
    expect(await ids(third, admin)).toEqual([]);
    expect(await indexed(third)).toBe(0);
    await integrityCheck();
  });

  it("the migration indexed the posts that existed before it (rebuild)", async () => {
    const author = await createUser();
    const term = word();
    const post = await createPost(author.access_token, { title: term, content: "c", status: "published" });
    // Drop the index behind the triggers' back, then run the migration's last statement again.
    const admin = await createAdmin();
    await env.DB.prepare("insert into posts_fts(posts_fts) values('delete-all')").run();
    expect(await ids(term, admin)).toEqual([]);
    await env.DB.prepare("insert into posts_fts(posts_fts) values('rebuild')").run();
    expect(await ids(term, admin)).toEqual([post.id]);
    await integrityCheck();
  });
});

describe("GET /v1/posts/search: cache", () => {
  it("anonymous pages are cached (MISS, then HIT) and retired by a public post write", async () => {
    const author = await createUser();
    const term = word();
    const path = searchPath(term);
    const first = await call(path);
    expect(first.headers.get("X-Cache")).toBe("MISS");
    expect(first.headers.get("Cache-Control")).toBe("public, max-age=30");
    expect(((await first.json()) as SearchPage).data).toEqual([]);
    const hit = await call(path);
    expect(hit.headers.get("X-Cache")).toBe("HIT");

    const post = await createPost(author.access_token, { title: term, content: "c", status: "published" });
    const after = await call(path);
    expect(after.headers.get("X-Cache")).toBe("MISS");
    expect(((await after.json()) as SearchPage).data.map((entry) => entry.id)).toEqual([post.id]);
    expect((await call(path)).headers.get("X-Cache")).toBe("HIT");
  });

  it("an edit that removes the word, and a rename of the author, retire cached pages too", async () => {
    const author = await createUser({ name: "Before Rename" });
    const term = word();
    const post = await createPost(author.access_token, { title: term, content: "c", status: "published" });
    const path = searchPath(term);
    await call(path);
    expect((await call(path)).headers.get("X-Cache")).toBe("HIT");
    const renamed = await api("/v1/users/me", { method: "PATCH", token: author.access_token, body: { name: "After" } });
    expect(renamed.status).toBe(200);
    const afterRename = await call(path);
    expect(afterRename.headers.get("X-Cache")).toBe("MISS");
    expect(((await afterRename.json()) as SearchPage).data[0]?.author.name).toBe("After");
    await call(path);
    const edited = await api(`/v1/posts/${post.id}`, {
      method: "PATCH",
      token: author.access_token,
      body: { title: "Something else" },
    });
    expect(edited.status).toBe(200);
    const afterEdit = await call(path);
    expect(afterEdit.headers.get("X-Cache")).toBe("MISS");
    expect(((await afterEdit.json()) as SearchPage).data).toEqual([]);
  });

  it("signed-in callers bypass the cache and are answered privately", async () => {
    const author = await createUser();
    const term = word();
    await createPost(author.access_token, { title: term, content: "c", status: "draft" });
    await call(searchPath(term));
    const own = await call(searchPath(term), { headers: { Authorization: `Bearer ${author.access_token}` } });
    expect(own.headers.get("X-Cache")).toBe("BYPASS");
    expect(own.headers.get("Cache-Control")).toBe("private, no-store");
    expect(((await own.json()) as SearchPage).data).toHaveLength(1);
  });

  it("the key is the whole validated query; long multi-byte queries still cache", async () => {
    const q = `${word()} ${"é😀".repeat(66)}`;
    expect((await call(searchPath(q))).headers.get("X-Cache")).toBe("MISS");
    expect((await call(searchPath(q))).headers.get("X-Cache")).toBe("HIT");
    expect((await call(searchPath(q, "&limit=5"))).headers.get("X-Cache")).toBe("MISS");
    expect((await call(searchPath(q, "&limit=5&offset=0"))).headers.get("X-Cache")).toBe("HIT");
    expect((await call(searchPath(`${q}x`))).headers.get("X-Cache")).toBe("MISS");
  });
});

describe("GET /v1/posts/search: routing", () => {
  it("is matched before /v1/posts/:id, and other methods are a 405", async () => {
    expect((await api(searchPath("anything"))).status).toBe(200);
    const response = await api("/v1/posts/search", { method: "POST" });
    const body = await expectError(response, 405, "MethodNotAllowedError");
    expect(body.details.allowed).toContain("GET");
    expect(response.headers.get("Allow")).toContain("GET");
  });
});

describe("GET /api/articles?search= (extension)", () => {
  it("finds published articles with the same engine, counted, best first", async () => {
    const user = await registerConduitUser();
    const term = word();
    const inBody = await createArticle(user.token, { title: "Plain", body: `about ${term}` });
    const inTitle = await createArticle(user.token, { title: `The ${term}`, body: "nothing" });
    const v1 = await createUser();
    await createPost(v1.access_token, { title: term, content: "draft", status: "draft" });
    const response = await conduit(`/articles?search=${encodeURIComponent(`${term.toUpperCase().slice(0, -2)}`)}`);
    expect(response.status).toBe(200);
    const page = await json<{ articles: { slug: string }[]; articlesCount: number }>(response);
    expect(page.articles.map((article) => article.slug)).toEqual([inTitle.slug, inBody.slug]);
    expect(page.articlesCount).toBe(2);
  });

  it("combines with the list's filters and paging", async () => {
    const user = await registerConduitUser();
    const other = await registerConduitUser();
    const term = word();
    const tag = word("tag");
    const tagged = await createArticle(user.token, { title: term, tagList: [tag] });
    await createArticle(user.token, { title: term });
    await createArticle(other.token, { title: term });
    const byTag = await json<{ articles: { slug: string }[]; articlesCount: number }>(
      await conduit(`/articles?search=${term}&tag=${tag}`),
    );
    expect(byTag.articles.map((article) => article.slug)).toEqual([tagged.slug]);
    const byAuthor = await json<{ articlesCount: number }>(
      await conduit(`/articles?search=${term}&author=${user.username}`),
    );
    expect(byAuthor.articlesCount).toBe(2);
    const paged = await json<{ articles: unknown[]; articlesCount: number }>(
      await conduit(`/articles?search=${term}&limit=1&offset=1`),
    );
    expect(paged.articles).toHaveLength(1);
    expect(paged.articlesCount).toBe(3);
  });

  it("hostile search text is plain text; too long is a 422 in the RealWorld shape; pages are cached", async () => {
    for (const q of ['"', "title:a", "NEAR(a b)", "((", "*", "😀"]) {
      expect((await conduit(`/articles?search=${encodeURIComponent(q)}`)).status, q).toBe(200);
    }
    await expectConduitIssues(await conduit(`/articles?search=${"a".repeat(201)}`), ["search"]);
    await errorsOf(await conduit("/articles?search="), 422);
    const path = `/articles?search=${word()}`;
    expect((await conduitSettled(path)).headers.get("X-Cache")).toBe("MISS");
    expect((await conduitSettled(path)).headers.get("X-Cache")).toBe("HIT");
  });
});
