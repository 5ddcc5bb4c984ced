import { describe, expect, it } from "vitest";
import { createPost, createUser, json } from "../helpers";
import {
  conduit,
  errorsOf,
  follow,
  type Profile,
  profileOf,
  registerConduitUser,
  setConduitRole,
  uniqueUsername,
} from "./helpers";

async function profileFrom(response: Response): Promise<Profile> {
  expect(response.status).toBe(200);
  const body = await json<{ profile: Profile }>(response);
  expect(Object.keys(body)).toEqual(["profile"]);
  return body.profile;
}

function getProfile(username: string, token?: string): Promise<Response> {
  return conduit(`/profiles/${username}`, { token });
}

describe("GET /api/profiles/:username", () => {
  it("anonymous: exactly {profile:{username,bio:null,image:null,following:false}}", async () => {
    const user = await registerConduitUser();
    expect(await profileFrom(await getProfile(user.username))).toEqual(profileOf(user));
  });

  it("shows bio and image once set", async () => {
    const user = await registerConduitUser();
    const put = await conduit("/user", {
      method: "PUT",
      token: user.token,
      body: { user: { bio: "Hello", image: "https://example.com/a.png" } },
    });
    expect(put.status).toBe(200);
    expect(await profileFrom(await getProfile(user.username))).toEqual(
      profileOf(user, { bio: "Hello", image: "https://example.com/a.png" }),
    );
  });

  it("matches the username case-insensitively and answers with its registered spelling", async () => {
    const user = await registerConduitUser({ username: uniqueUsername("MiXeD") });
    expect(await profileFrom(await getProfile(user.username.toUpperCase()))).toEqual(profileOf(user));
    expect(await profileFrom(await getProfile(user.username.toLowerCase()))).toEqual(profileOf(user));
  });

  it("following is per viewer: true for a follower, false for others and anonymous", async () => {
    const [target, follower, other] = [
      await registerConduitUser(),
      await registerConduitUser(),
      await registerConduitUser(),
    ];
    await follow(follower.token, target.username);
    expect(await profileFrom(await getProfile(target.username, follower.token))).toEqual(
      profileOf(target, { following: true }),
    );
    expect(await profileFrom(await getProfile(target.username, other.token))).toEqual(profileOf(target));
    expect(await profileFrom(await getProfile(target.username))).toEqual(profileOf(target));
    // Following is one-way.
    expect(await profileFrom(await getProfile(follower.username, target.token))).toEqual(profileOf(follower));
  });

  it("a /v1 user without a handle has its id as username", async () => {
    const v1 = await createUser({ name: "No Handle" });
    await createPost(v1.access_token, { status: "published" });
    expect(await profileFrom(await getProfile(v1.id))).toEqual({
      username: v1.id,
      bio: null,
      image: null,
      following: false,
    });
  });

  it("unknown username → 404", async () => {
    await errorsOf(await getProfile(uniqueUsername("ghost")), 404);
  });

  it("a bad token on this optional-auth route → 401", async () => {
    const user = await registerConduitUser();
    await errorsOf(await getProfile(user.username, "not-a-jwt"), 401);
  });
});

describe("POST /api/profiles/:username/follow", () => {
  it("200 following:true; idempotent; a request body is ignored", async () => {
    const [target, follower] = [await registerConduitUser(), await registerConduitUser()];
    for (let i = 0; i < 2; i++) {
      const response = await conduit(`/profiles/${target.username}/follow`, {
        method: "POST",
        token: follower.token,
        // The RealWorld Postman collection sends this body.
        body: { user: { email: follower.email } },
      });
      expect(await profileFrom(response)).toEqual(profileOf(target, { following: true }));
    }
    expect(await profileFrom(await getProfile(target.username, follower.token))).toEqual(
      profileOf(target, { following: true }),
    );
    // Still one follow: one unfollow ends it.
    await conduit(`/profiles/${target.username}/follow`, { method: "DELETE", token: follower.token });
    expect(await profileFrom(await getProfile(target.username, follower.token))).toEqual(profileOf(target));
  });

  it("works with a differently cased username", async () => {
    const [target, follower] = [
      await registerConduitUser({ username: uniqueUsername("CasE") }),
      await registerConduitUser(),
    ];
    const response = await conduit(`/profiles/${target.username.toUpperCase()}/follow`, {
      method: "POST",
      token: follower.token,
    });
    expect(await profileFrom(response)).toEqual(profileOf(target, { following: true }));
  });

  it("a guest may follow", async () => {
    const target = await registerConduitUser();
    const guest = await setConduitRole(await registerConduitUser(), "guest");
    const response = await conduit(`/profiles/${target.username}/follow`, { method: "POST", token: guest.token });
    expect(await profileFrom(response)).toEqual(profileOf(target, { following: true }));
  });

  it("following yourself → 422 (also with another spelling)", async () => {
    const user = await registerConduitUser({ username: uniqueUsername("Self") });
    await errorsOf(await conduit(`/profiles/${user.username}/follow`, { method: "POST", token: user.token }), 422);
    await errorsOf(
      await conduit(`/profiles/${user.username.toLowerCase()}/follow`, { method: "POST", token: user.token }),
      422,
    );
    expect(await profileFrom(await getProfile(user.username, user.token))).toEqual(profileOf(user));
  });

  it("unknown username → 404; no token → 401", async () => {
    const user = await registerConduitUser();
    await errorsOf(
      await conduit(`/profiles/${uniqueUsername("ghost")}/follow`, { method: "POST", token: user.token }),
      404,
    );
    await errorsOf(await conduit(`/profiles/${user.username}/follow`, { method: "POST" }), 401);
  });
});

describe("DELETE /api/profiles/:username/follow", () => {
  it("200 following:false; idempotent, also when never followed", async () => {
    const [target, follower] = [await registerConduitUser(), await registerConduitUser()];
    await follow(follower.token, target.username);
    for (let i = 0; i < 2; i++) {
      const response = await conduit(`/profiles/${target.username}/follow`, {
        method: "DELETE",
        token: follower.token,
      });
      expect(await profileFrom(response)).toEqual(profileOf(target));
    }
    expect(await profileFrom(await getProfile(target.username, follower.token))).toEqual(profileOf(target));
  });

  it("unfollowing one user leaves the other follows alone", async () => {
    const [a, b, follower] = [await registerConduitUser(), await registerConduitUser(), await registerConduitUser()];
    await follow(follower.token, a.username);
    await follow(follower.token, b.username);
    await conduit(`/profiles/${a.username}/follow`, { method: "DELETE", token: follower.token });
    expect((await profileFrom(await getProfile(a.username, follower.token))).following).toBe(false);
    expect((await profileFrom(await getProfile(b.username, follower.token))).following).toBe(true);
  });

  it("unknown username → 404; no token → 401", async () => {
    const user = await registerConduitUser();
    await errorsOf(
      await conduit(`/profiles/${uniqueUsername("ghost")}/follow`, { method: "DELETE", token: user.token }),
      404,
    );
    await errorsOf(await conduit(`/profiles/${user.username}/follow`, { method: "DELETE" }), 401);
  });
});
