import { describe, expect, it } from "vitest";
import { json } from "../helpers";
import {
  addComment,
  type Comment,
  conduit,
  createArticle,
  errorsOf,
  expectIssues,
  follow,
  ISO_MS,
  pause,
  profileOf,
  registerConduitAdmin,
  registerConduitUser,
  setConduitRole,
} from "./helpers";

function postComment(slug: string, token: string | undefined, comment: Record<string, unknown>): Promise<Response> {
  return conduit(`/articles/${slug}/comments`, { method: "POST", token, body: { comment } });
}

function deleteComment(slug: string, id: number | string, token?: string): Promise<Response> {
  return conduit(`/articles/${slug}/comments/${id}`, { method: "DELETE", token });
}

async function commentsOf(slug: string, token?: string): Promise<Comment[]> {
  const response = await conduit(`/articles/${slug}/comments`, { token });
  expect(response.status).toBe(200);
  const body = await json<{ comments: Comment[] }>(response);
  expect(Object.keys(body)).toEqual(["comments"]);
  return body.comments;
}

async function world() {
  const author = await registerConduitUser();
  const commenter = await registerConduitUser();
  const article = await createArticle(author.token);
  return { author, commenter, article };
}

describe("POST /api/articles/:slug/comments", () => {
  it("200 with exactly {comment:{id,createdAt,updatedAt,body,author}}; id is an integer", async () => {
    const { commenter, article } = await world();
    const response = await postComment(article.slug, commenter.token, { body: "Nice one" });
    expect(response.status).toBe(200);
    const body = await json<{ comment: Comment }>(response);
    expect(body).toEqual({
      comment: {
        id: expect.any(Number),
        createdAt: expect.stringMatching(ISO_MS),
        updatedAt: expect.stringMatching(ISO_MS),
        body: "Nice one",
        author: profileOf(commenter),
      },
    });
    expect(Number.isInteger(body.comment.id)).toBe(true);
    expect(body.comment.id).toBeGreaterThan(0);
  });

  it("the article's author may comment too, and a second comment gets another id", async () => {
    const { author, article } = await world();
    const first = await addComment(author.token, article.slug, "one");
    const second = await addComment(author.token, article.slug, "two");
    expect(second.id).not.toBe(first.id);
    expect(first.author).toEqual(profileOf(author));
  });

  it("empty body, missing body, body over 10000, unknown field → 422", async () => {
    const { commenter, article } = await world();
    await expectIssues(await postComment(article.slug, commenter.token, { body: "" }), ["comment.body"]);
    await expectIssues(await postComment(article.slug, commenter.token, {}), ["comment.body"]);
    await expectIssues(await postComment(article.slug, commenter.token, { body: "c".repeat(10_001) }), [
      "comment.body",
    ]);
    expect(await errorsOf(await postComment(article.slug, commenter.token, { body: "x", id: 5 }), 422)).toEqual([
      "comment.id Unknown field",
    ]);
    expect(await commentsOf(article.slug)).toEqual([]);
  });

  it("a body of 10000 characters fits", async () => {
    const { commenter, article } = await world();
    expect((await addComment(commenter.token, article.slug, "c".repeat(10_000))).body).toHaveLength(10_000);
  });

  it("no token → 401; a guest → 403; unknown slug → 404", async () => {
    const { commenter, article } = await world();
    await errorsOf(await postComment(article.slug, undefined, { body: "x" }), 401);
    const guest = await setConduitRole(await registerConduitUser(), "guest");
    await errorsOf(await postComment(article.slug, guest.token, { body: "x" }), 403);
    await errorsOf(await postComment("no-such-article-zzz", commenter.token, { body: "x" }), 404);
    expect(await commentsOf(article.slug)).toEqual([]);
  });

  it("an archived article → 404", async () => {
    const { author, commenter, article } = await world();
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    await errorsOf(await postComment(article.slug, commenter.token, { body: "late" }), 404);
  });
});

describe("GET /api/articles/:slug/comments", () => {
  it("oldest first, only this article's comments, exact shape", async () => {
    const { author, commenter, article } = await world();
    const other = await createArticle(author.token);
    const c1 = await addComment(commenter.token, article.slug, "first");
    await pause();
    await addComment(commenter.token, other.slug, "elsewhere");
    const c2 = await addComment(author.token, article.slug, "second");
    await pause();
    const c3 = await addComment(commenter.token, article.slug, "third");
    expect(await commentsOf(article.slug)).toEqual([c1, c2, c3]);
  });

  it("following in each comment's author is per viewer", async () => {
    const { author, commenter, article } = await world();
    const reader = await registerConduitUser();
    await addComment(commenter.token, article.slug, "by commenter");
    await addComment(author.token, article.slug, "by author");
    await follow(reader.token, commenter.username);
    const asReader = await commentsOf(article.slug, reader.token);
    expect(asReader.map((c) => [c.author.username, c.author.following])).toEqual([
      [commenter.username, true],
      [author.username, false],
    ]);
    const anonymous = await commentsOf(article.slug);
    expect(anonymous.map((c) => c.author.following)).toEqual([false, false]);
  });

  it("no comments → []", async () => {
    const { article } = await world();
    expect(await commentsOf(article.slug)).toEqual([]);
  });

  it("unknown slug → 404; an archived article → 404; a bad token → 401", async () => {
    const { author, commenter, article } = await world();
    await addComment(commenter.token, article.slug, "before archiving");
    await errorsOf(await conduit("/articles/no-such-article-zzz/comments"), 404);
    await errorsOf(await conduit(`/articles/${article.slug}/comments`, { token: "garbage" }), 401);
    expect((await conduit(`/articles/${article.slug}`, { method: "DELETE", token: author.token })).status).toBe(204);
    await errorsOf(await conduit(`/articles/${article.slug}/comments`), 404);
    await errorsOf(await conduit(`/articles/${article.slug}/comments`, { token: author.token }), 404);
  });
});

describe("DELETE /api/articles/:slug/comments/:id", () => {
  it("the comment's author → 204 with no body; it is gone", async () => {
    const { commenter, article } = await world();
    const keep = await addComment(commenter.token, article.slug, "keep");
    const gone = await addComment(commenter.token, article.slug, "gone");
    const response = await deleteComment(article.slug, gone.id, commenter.token);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe("");
    expect(await commentsOf(article.slug)).toEqual([keep]);
    await errorsOf(await deleteComment(article.slug, gone.id, commenter.token), 404);
  });

  it("an admin → 204", async () => {
    const { commenter, article } = await world();
    const admin = await registerConduitAdmin();
    const comment = await addComment(commenter.token, article.slug);
    expect((await deleteComment(article.slug, comment.id, admin.token)).status).toBe(204);
    expect(await commentsOf(article.slug)).toEqual([]);
  });

  it("another user → 403, including the article's author; the comment stays", async () => {
    const { author, commenter, article } = await world();
    const other = await registerConduitUser();
    const comment = await addComment(commenter.token, article.slug);
    await errorsOf(await deleteComment(article.slug, comment.id, other.token), 403);
    await errorsOf(await deleteComment(article.slug, comment.id, author.token), 403);
    expect(await commentsOf(article.slug)).toEqual([comment]);
  });

  it("no token → 401", async () => {
    const { commenter, article } = await world();
    const comment = await addComment(commenter.token, article.slug);
    await errorsOf(await deleteComment(article.slug, comment.id), 401);
    expect(await commentsOf(article.slug)).toEqual([comment]);
  });

  it("unknown id, another article's comment, unknown slug → 404; a non-integer id → 422", async () => {
    const { author, commenter, article } = await world();
    const other = await createArticle(author.token);
    const elsewhere = await addComment(commenter.token, other.slug);
    await errorsOf(await deleteComment(article.slug, 999_999_999, commenter.token), 404);
    // Comment ids are integers (the spec's path parameter): anything else is a malformed request.
    expect(await errorsOf(await deleteComment(article.slug, "abc", commenter.token), 422)).toEqual([
      "id must be a comment id (a whole number)",
    ]);
    await errorsOf(await deleteComment(article.slug, elsewhere.id, commenter.token), 404);
    await errorsOf(await deleteComment("no-such-article-zzz", elsewhere.id, commenter.token), 404);
    expect(await commentsOf(other.slug)).toEqual([elsewhere]);
  });
});
