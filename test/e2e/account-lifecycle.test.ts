// The /v1 operations the other e2e files leave out, so that the conformance check
// (conformance-setup.ts) sees an answer from each: email verification, account edits, logout, a
// user as others and as an admin see it, admin edits, post deletion, and a RealWorld profile edit.
// Registers one account (the e2e files register eight in all, within REGISTER_IP_LIMITER's local
// 20 a minute) and logs in twice (LOGIN_IP_LIMITER: 20 a minute).
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { call } from "./http";

type Body = Record<string, unknown>;

describe("an account's life under wrangler dev", () => {
  it("verification, edits, logout, admin views and edits, post deletion", async () => {
    const email = `e2e-life-${Date.now()}@example.com`;
    const password = "e2e lifecycle pw 1";
    const registered = await call("/v1/auth/register", { method: "POST", body: { email, name: "Life", password } });
    expect(registered.status, registered.text).toBe(201);
    const token = String(registered.body.access_token);
    const userId = String((registered.body.user as Body).id);

    const verification = await call("/v1/auth/email-verification", { method: "POST", token });
    expect(verification.status, verification.text).toBe(202);
    const badLink = await call("/v1/auth/email-verification/confirm", { method: "POST", body: { token: "no-such" } });
    expect(badLink.status, badLink.text).toBe(400);

    const renamed = await call("/v1/users/me", { method: "PATCH", token, body: { name: "Life Renamed" } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.name).toBe("Life Renamed");
    const wrongCurrent = await call("/v1/users/me", {
      method: "PATCH",
      token,
      body: { password: "a new password 2", current_password: "not the password" },
    });
    expect(wrongCurrent.status, wrongCurrent.text).toBe(401);

    // As the user itself sees its id, and what it may not do to accounts and posts.
    expect((await call(`/v1/users/${userId}`, { token })).status).toBe(200);
    expect((await call(`/v1/users/${userId}`, { method: "PATCH", token, body: { name: "X" } })).status).toBe(403);
    expect((await call(`/v1/users/${userId}`, { method: "DELETE", token })).status).toBe(403);
    expect((await call("/v1/users/no-such-user", { token })).status).toBe(404);
    const post = await call("/v1/posts", { method: "POST", token, body: { title: "To be deleted", content: "Soon" } });
    expect(post.status, post.text).toBe(201);
    const postId = String(post.body.id);
    expect((await call(`/v1/posts/${postId}`, { method: "DELETE", token })).status).toBe(403);

    // The RealWorld surface takes the same token with its own scheme.
    const bio = await call("/api/user", { method: "PUT", token, scheme: "Token", body: { user: { bio: "Hello" } } });
    expect(bio.status, bio.text).toBe(200);
    expect((bio.body.user as Body).bio).toBe("Hello");

    const loggedOut = await call("/v1/auth/logout", {
      method: "POST",
      token,
      body: { refresh_token: registered.body.refresh_token },
    });
    expect(loggedOut.status, loggedOut.text).toBe(204);
    const refreshed = await call("/v1/auth/refresh", {
      method: "POST",
      body: { refresh_token: registered.body.refresh_token },
    });
    expect(refreshed.status, refreshed.text).toBe(401);

    execFileSync("npm", ["run", "promote", "--", email], { stdio: "pipe", env: { ...process.env, CI: "true" } });
    const admin = await call("/v1/auth/login", { method: "POST", body: { email, password } });
    expect(admin.status, admin.text).toBe(200);
    const adminToken = String(admin.body.access_token);
    const full = await call(`/v1/users/${userId}`, { token: adminToken });
    expect(full.status, full.text).toBe(200);
    expect(full.body.email).toBe(email);
    const edited = await call(`/v1/users/${userId}`, {
      method: "PATCH",
      token: adminToken,
      body: { name: "Life Admin" },
    });
    expect(edited.status, edited.text).toBe(200);
    expect(
      (await call("/v1/users/no-such-user", { method: "PATCH", token: adminToken, body: { name: "X" } })).status,
    ).toBe(404);
    expect((await call(`/v1/posts/${postId}`, { method: "DELETE", token: adminToken })).status).toBe(204);
    expect((await call(`/v1/posts/${postId}`, { method: "DELETE", token: adminToken })).status).toBe(404);
  });
});
