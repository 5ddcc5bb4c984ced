import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { api, createAdmin, createPost, createUser, expectError } from "./helpers";

/** Every /v1 route of the app, with its path parameters filled in. */
function v1Routes(id: string): [string, string][] {
  const routes = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL" || !route.path.startsWith("/v1/")) continue;
    routes.add(`${route.method} ${route.path.replace(/:id/g, id)}`);
  }
  return [...routes].sort().map((entry) => entry.split(" ") as [string, string]);
}

describe("tokens of deactivated and deleted users, on every /v1 route", () => {
  it("are refused with 401 on every route that reads a token, public routes included", async () => {
    const admin = await createAdmin();
    const deactivated = await createUser();
    const deleted = await createUser();
    const post = await createPost(deactivated.access_token, { status: "published" });
    expect(
      (
        await api(`/v1/users/${deactivated.id}`, {
          method: "PATCH",
          token: admin.access_token,
          body: { is_active: false },
        })
      ).status,
    ).toBe(200);
    expect((await api(`/v1/users/${deleted.id}`, { method: "DELETE", token: admin.access_token })).status).toBe(204);

    // Sign-up, login, refresh and the mailed-link routes ignore the Authorization header (they are
    // how a client recovers).
    const recovery =
      /^\/v1\/auth\/(register|login|refresh|password-reset|password-reset\/confirm|email-verification\/confirm)$/;
    const routes = v1Routes(post.id).filter(([, path]) => !recovery.test(path));
    expect(routes.length).toBeGreaterThanOrEqual(14);
    for (const session of [deactivated, deleted]) {
      for (const [method, path] of routes) {
        const hasBody = method === "POST" || method === "PATCH";
        const response = await api(path, {
          method,
          token: session.access_token,
          ...(hasBody
            ? { body: { title: "t", content: "c", refresh_token: "x", email: "a@b.co", password: "pw" } }
            : {}),
        });
        await expectError(response, 401, "AuthenticationError");
      }
    }
    const login = await api("/v1/auth/login", {
      method: "POST",
      token: deactivated.access_token,
      body: { email: deactivated.email, password: deactivated.password },
    });
    await expectError(login, 401, "AuthenticationError");
    // Nothing they sent changed anything.
    const count = await env.DB.prepare("select count(*) as n from posts where author_id = ?")
      .bind(deactivated.id)
      .first<{ n: number }>();
    expect(count?.n).toBe(1);
  });
});

describe("a stale token does not block getting a new one", () => {
  it("login and refresh work while an expired or revoked Authorization header is sent", async () => {
    const user = await createUser();
    await api("/v1/users/me", {
      method: "PATCH",
      token: user.access_token,
      body: { password: "a brand new password", current_password: user.password },
    });
    const login = await api("/v1/auth/login", {
      method: "POST",
      token: user.access_token,
      body: { email: user.email, password: "a brand new password" },
    });
    expect(login.status).toBe(200);
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const refresh = await api("/v1/auth/refresh", { method: "POST", token: "garbage", body: { refresh_token } });
    expect(refresh.status).toBe(200);
  });
});
