// End to end against the README's `npm run dev` (started by global-setup.ts), driven over HTTP
// the way a newcomer following the README would, including `npm run promote`.
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { call } from "./http";

describe("wrangler dev, end to end", () => {
  it("register → login → create → publish → list → promote → admin", async () => {
    const email = `e2e-${Date.now()}@example.com`;
    const password = "e2e password 123";

    const registered = await call("/v1/auth/register", { method: "POST", body: { email, name: "E2E", password } });
    expect(registered.status).toBe(201);
    expect(registered.headers.get("X-Request-Id")).toBeTruthy();

    const loggedIn = await call("/v1/auth/login", { method: "POST", body: { email, password } });
    expect(loggedIn.status).toBe(200);
    const token = String(loggedIn.body.access_token);

    const created = await call("/v1/posts", {
      method: "POST",
      token,
      body: { title: "Hello edge", content: "First post" },
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe("draft");
    const id = String(created.body.id);
    expect(created.headers.get("Location")).toBe(`/v1/posts/${id}`);

    const hidden = await call(`/v1/posts/${id}`);
    expect(hidden.status).toBe(404);

    const published = await call(`/v1/posts/${id}`, { method: "PATCH", token, body: { status: "published" } });
    expect(published.status).toBe(200);
    expect(published.body.version).toBe(2);
    expect(published.body.published_at).toBeTruthy();

    const list = await call(
      `/v1/posts?author_id=${registered.body.user && (registered.body.user as { id: string }).id}`,
    );
    expect(list.status).toBe(200);
    expect((list.body.data as { id: string }[]).map((post) => post.id)).toEqual([id]);

    const forbidden = await call("/v1/users", { token });
    expect(forbidden.status).toBe(403);

    execFileSync("npm", ["run", "promote", "--", email], { stdio: "pipe", env: { ...process.env, CI: "true" } });
    const relogin = await call("/v1/auth/login", { method: "POST", body: { email, password } });
    expect((relogin.body.user as { role: string }).role).toBe("admin");
    const users = await call("/v1/users?limit=5", { token: String(relogin.body.access_token) });
    expect(users.status).toBe(200);
  });
});
