// Runs examples/client.ts (hono/client typed by AppType) against wrangler dev.
import { expect, inject, it } from "vitest";
import { runExample } from "../../examples/client";

it("the typed client example registers, logs in, creates and lists", async () => {
  const { postId, listed } = await runExample(inject("baseUrl"));
  expect(listed).toEqual([postId]);
});
