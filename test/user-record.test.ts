// The per-user record (src/user-record/) seen from one location: long-lived /api tokens that are
// still revoked at once, and what one request costs of it. The edge simulation
// (test/sim/user-record.test.ts) shows the same rules across locations.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { conduit, registerConduitUser } from "./conduit/helpers";
import { api, BASE, createAdmin, createPost, createUser, fetchSettled, json, login } from "./helpers";
import { linkToken, recordingEmailBinding, type SentMail } from "./mail-recorder";
import { userRecordsWith } from "./user-records";

const DAY_SECONDS = 86_400;

describe("/api tokens", () => {
  it("live CONDUIT_TOKEN_TTL_DAYS (30 days by default); /v1 access tokens stay ACCESS_TOKEN_TTL_SECONDS", async () => {
    const user = await registerConduitUser();
    const claims = decodeJwt(user.token);
    expect((claims.exp ?? 0) - Math.floor(claims.iat ?? 0)).toBe(Number(env.CONDUIT_TOKEN_TTL_DAYS) * DAY_SECONDS);
    expect(Number(env.CONDUIT_TOKEN_TTL_DAYS)).toBe(30);
    const v1 = await json<{ access_token: string }>(await login(user.email, user.password));
    const v1Claims = decodeJwt(v1.access_token);
    expect((v1Claims.exp ?? 0) - Math.floor(v1Claims.iat ?? 0)).toBe(Number(env.ACCESS_TOKEN_TTL_SECONDS));
  });

  it.each([
    [
      "a password change through /v1",
      async (user: { email: string; password: string }) => {
        const session = await json<{ access_token: string }>(await login(user.email, user.password));
        await api("/v1/users/me", {
          method: "PATCH",
          token: session.access_token,
          body: { password: "a different password", current_password: user.password },
        });
      },
    ],
    [
      "a role change by an admin",
      async (user: { id: string }) => {
        const admin = await createAdmin();
        await api(`/v1/users/${user.id}`, { method: "PATCH", token: admin.access_token, body: { role: "guest" } });
      },
    ],
    [
      "a deactivation by an admin",
      async (user: { id: string }) => {
        const admin = await createAdmin();
        await api(`/v1/users/${user.id}`, { method: "PATCH", token: admin.access_token, body: { is_active: false } });
      },
    ],
    [
      "the account's deletion",
      async (user: { token: string }) => {
        await api("/v1/users/me", { method: "DELETE", headers: { Authorization: `Bearer ${user.token}` } });
      },
    ],
  ])("a 30-day token is revoked at once by %s", async (_what, revoke) => {
    const user = await registerConduitUser();
    expect((await conduit("/user", { token: user.token })).status).toBe(200);
    await revoke(user);
    const after = await conduit("/user", { token: user.token });
    expect(after.status).toBe(401);
  });
});

describe("what a request costs of the user record", () => {
  it("one read per token-carrying request, one recorded write per signed-in write, nothing anonymous", async () => {
    const author = await createUser();
    const post = await createPost(author.access_token, { status: "published" });
    const counted = userRecordsWith();
    const send = (path: string, init: RequestInit = {}) =>
      fetchSettled(new Request(`${BASE}${path}`, init), { USER_RECORDS: counted.namespace });
    const auth = { Authorization: `Bearer ${author.access_token}` };
    await send(`/v1/posts/${post.id}`, { headers: auth });
    expect(counted.calls).toEqual({ read: 1, endSessions: 0, recordWrite: 0 });
    await send(`/v1/posts/${post.id}`, {
      method: "PATCH",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "edited" }),
    });
    expect(counted.calls).toEqual({ read: 2, endSessions: 0, recordWrite: 1 });
    await send(`/v1/posts/${post.id}`);
    await send("/v1/posts");
    expect(counted.calls).toEqual({ read: 2, endSessions: 0, recordWrite: 1 });
  });
});

describe("writes made without a token still reach their user's record", () => {
  it("confirming an email-verification link records the write for the user", async () => {
    const user = await createUser();
    const mail = recordingEmailBinding({ forward: false });
    const asked = await fetchSettled(
      new Request(`${BASE}/v1/auth/email-verification`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.access_token}` },
      }),
      { EMAIL: mail.binding },
    );
    expect(asked.status).toBe(202);
    const token = linkToken(mail.sent[0] as SentMail, "/verify-email");
    const counted = userRecordsWith();
    const confirmed = await fetchSettled(
      new Request(`${BASE}/v1/auth/email-verification/confirm`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token }),
      }),
      { USER_RECORDS: counted.namespace },
    );
    expect(confirmed.status).toBe(204);
    expect(counted.calls.recordWrite).toBe(1);
    const stub = env.USER_RECORDS.get(env.USER_RECORDS.idFromName(user.id));
    expect((await stub.read()).newestWrite).toEqual(expect.any(String));
  });
});
