// End-to-end smoke test against a running deployment: `npm run smoke -- https://<worker URL>`
// (or a local `npm run dev`, e.g. http://localhost:8787). Plain Node, no build step, no dependency.
//
// It registers a throw-away account, walks the main flow of ../shared/API.md with it, and always
// cleans up in the end: archives its post, deletes the account (which deletes its posts) and checks
// that the account can no longer log in. It reads and writes nothing it did not create.
// One line per step; exits 1 at the first failed check, 2 on a usage error.
import { randomBytes } from "node:crypto";

const REQUEST_TIMEOUT_MS = 15_000;

const arg = process.argv[2];
let base;
try {
  base = new URL(arg ?? "");
  if (base.protocol !== "http:" && base.protocol !== "https:") throw new Error("not http(s)");
} catch {
  console.error("usage: npm run smoke -- <base URL>   e.g. https://edge-posts-api.example.workers.dev");
  process.exit(2);
}
const BASE = base.href.replace(/\/+$/, "");

const runId = `${Date.now()}-${randomBytes(4).toString("hex")}`;
const email = `smoke-${runId}@example.com`;
const password = `smoke ${randomBytes(12).toString("base64url")}`;

class SmokeFailure extends Error {}

let checks = 0;
function check(condition, message) {
  if (!condition) throw new SmokeFailure(message);
  checks += 1;
}

/** One request; the body is parsed when there is one. Every response must carry X-Request-Id. */
async function call(method, path, { token, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`${BASE}${path}`, init);
  } catch (error) {
    throw new SmokeFailure(`${method} ${path}: no response (${error.cause?.message ?? error.message})`);
  }
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new SmokeFailure(`${method} ${path}: ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  check(response.headers.get("X-Request-Id"), `${method} ${path}: response has no X-Request-Id header`);
  return { status: response.status, headers: response.headers, body: json };
}

function expectStatus(response, status, what) {
  if (response.status === status) return check(true);
  const retry = response.headers.get("Retry-After");
  const hint = response.status === 429 ? ` (rate limited; retry after ${retry ?? "?"} s)` : "";
  throw new SmokeFailure(
    `${what}: expected ${status}, got ${response.status}${hint}: ${JSON.stringify(response.body)}`,
  );
}

/** The contract's error envelope: `{error, type, details, request_id}`; `details` always an object. */
function expectError(response, status, type, what) {
  expectStatus(response, status, what);
  const body = response.body ?? {};
  check(typeof body.error === "string" && body.error.length > 0, `${what}: error body has no "error" message`);
  check(body.type === type, `${what}: expected type ${type}, got ${JSON.stringify(body.type)}`);
  check(
    typeof body.details === "object" && body.details !== null && !Array.isArray(body.details),
    `${what}: "details" must be an object, got ${JSON.stringify(body.details)}`,
  );
  check(
    body.request_id === response.headers.get("X-Request-Id"),
    `${what}: request_id ${JSON.stringify(body.request_id)} differs from the X-Request-Id header`,
  );
}

function step(message) {
  console.log(`ok   ${message}`);
}

const state = { accessToken: "", userId: "", postId: "" };

async function login(what) {
  const response = await call("POST", "/v1/auth/login", { body: { email, password } });
  expectStatus(response, 200, what);
  return response.body;
}

async function flow() {
  const health = await call("GET", "/health");
  expectStatus(health, 200, "GET /health");
  check(health.body?.status === "ok", `GET /health: status is ${JSON.stringify(health.body?.status)}`);
  step("GET /health → 200 ok");

  const ready = await call("GET", "/health/ready");
  expectStatus(ready, 200, "GET /health/ready");
  check(ready.body?.status === "ok", `GET /health/ready: ${JSON.stringify(ready.body)}`);
  step(`GET /health/ready → 200 ${JSON.stringify(ready.body.checks ?? {})}`);

  const registered = await call("POST", "/v1/auth/register", { body: { email, name: "Smoke Test", password } });
  expectStatus(registered, 201, "POST /v1/auth/register");
  check(registered.body?.user?.email === email, "register: the user's email differs from the one sent");
  check(registered.body.user.role === "user", `register: role is ${registered.body.user.role}, expected user`);
  check(registered.body.token_type === "Bearer" && registered.body.access_token, "register: no bearer access token");
  state.userId = registered.body.user.id;
  state.accessToken = registered.body.access_token;
  step(`POST /v1/auth/register → 201 ${email} (${state.userId})`);

  const session = await login("POST /v1/auth/login");
  check(session.user?.id === state.userId, "login: returned another user");
  check(session.access_token && session.refresh_token, "login: no token pair");
  state.accessToken = session.access_token;
  step("POST /v1/auth/login → 200 token pair");

  const me = await call("GET", "/v1/users/me", { token: state.accessToken });
  expectStatus(me, 200, "GET /v1/users/me");
  check(me.body?.id === state.userId && me.body.email === email, "GET /v1/users/me: not the new account");
  check(!Object.keys(me.body).some((key) => /password|hash/i.test(key)), "GET /v1/users/me: exposes a password field");
  step("GET /v1/users/me → 200 the new account");

  const created = await call("POST", "/v1/posts", {
    token: state.accessToken,
    body: { title: `Smoke test ${runId}`, content: "Written by npm run smoke; removed with its account at the end." },
  });
  expectStatus(created, 201, "POST /v1/posts");
  state.postId = created.body?.id;
  check(state.postId, "POST /v1/posts: no id");
  check(
    created.body.status === "draft" && created.body.version === 1,
    `POST /v1/posts: status ${created.body.status}, version ${created.body.version}; expected draft, 1`,
  );
  check(
    created.headers.get("Location") === `/v1/posts/${state.postId}`,
    `POST /v1/posts: Location is ${created.headers.get("Location")}`,
  );
  const draftEtag = created.headers.get("ETag");
  check(draftEtag, "POST /v1/posts: no ETag");
  step(`POST /v1/posts → 201 draft ${state.postId}`);

  const requestId = `smoke-${runId}`;
  const hidden = await call("GET", `/v1/posts/${state.postId}`, { headers: { "X-Request-Id": requestId } });
  expectError(hidden, 404, "NotFoundError", "anonymous GET of a draft");
  check(hidden.body.request_id === requestId, `anonymous GET of a draft: request_id is not the X-Request-Id sent`);
  step("GET /v1/posts/:id (anonymous, draft) → 404 NotFoundError with the error envelope");

  const published = await call("PATCH", `/v1/posts/${state.postId}`, {
    token: state.accessToken,
    headers: { "If-Match": draftEtag },
    body: { status: "published" },
  });
  expectStatus(published, 200, "PATCH /v1/posts/:id (publish, If-Match)");
  check(
    published.body?.status === "published" && published.body.version === 2,
    `publish: status ${published.body?.status}, version ${published.body?.version}; expected published, 2`,
  );
  check(published.body.published_at, "publish: published_at is not set");
  const etag = published.headers.get("ETag");
  check(etag && etag !== draftEtag, "publish: the ETag did not change");
  check(published.headers.get("X-D1-Bookmark"), "publish: no X-D1-Bookmark header");
  step(`PATCH /v1/posts/:id If-Match ${draftEtag} → 200 published, ETag ${etag}`);

  const cacheStates = [];
  for (const attempt of ["first", "second"]) {
    const read = await call("GET", `/v1/posts/${state.postId}`);
    expectStatus(read, 200, `anonymous GET of the published post (${attempt})`);
    check(read.body?.id === state.postId && read.body.status === "published", `${attempt} GET: not the published post`);
    check(read.headers.get("ETag") === etag, `${attempt} GET: ETag ${read.headers.get("ETag")}, expected ${etag}`);
    const cache = read.headers.get("X-Cache");
    check(cache === "HIT" || cache === "MISS", `${attempt} GET: X-Cache is ${cache}, expected HIT or MISS (public)`);
    check(/public/.test(read.headers.get("Cache-Control") ?? ""), `${attempt} GET: Cache-Control is not public`);
    cacheStates.push(cache);
  }
  step(`GET /v1/posts/:id (anonymous) twice → 200, ETag ${etag}, X-Cache ${cacheStates.join(" then ")}`);

  const notModified = await call("GET", `/v1/posts/${state.postId}`, { headers: { "If-None-Match": etag } });
  expectStatus(notModified, 304, "GET /v1/posts/:id with If-None-Match");
  check(notModified.body === undefined, "If-None-Match: a 304 must have no body");
  step("GET /v1/posts/:id If-None-Match → 304");

  const listed = await call("GET", `/v1/users/${state.userId}/posts`);
  expectStatus(listed, 200, "GET /v1/users/:id/posts");
  check(
    Array.isArray(listed.body?.data) && listed.body.data.some((post) => post.id === state.postId),
    "GET /v1/users/:id/posts: the published post is not listed",
  );
  step("GET /v1/users/:id/posts (anonymous) → 200 lists the post");

  const refreshed = await call("POST", "/v1/auth/refresh", { body: { refresh_token: session.refresh_token } });
  expectStatus(refreshed, 200, "POST /v1/auth/refresh");
  check(
    refreshed.body?.refresh_token && refreshed.body.refresh_token !== session.refresh_token,
    "refresh: not rotated",
  );
  state.accessToken = refreshed.body.access_token;
  const meAgain = await call("GET", "/v1/users/me", { token: state.accessToken });
  expectStatus(meAgain, 200, "GET /v1/users/me with the refreshed access token");
  const replayed = await call("POST", "/v1/auth/refresh", { body: { refresh_token: session.refresh_token } });
  expectError(replayed, 401, "AuthenticationError", "replaying a rotated refresh token");
  step("POST /v1/auth/refresh → 200 new pair that works; replaying the old refresh token → 401");
}

/** Removes what the run made, whatever state the flow stopped in. */
async function cleanUp() {
  if (!state.userId) return;
  // An access token the API no longer accepts (e.g. revoked with the replayed family): log in again.
  const asOwner = async (method, path, body) => {
    let response = await call(method, path, { token: state.accessToken, body });
    if (response.status === 401) {
      state.accessToken = (await login("POST /v1/auth/login (for clean-up)")).access_token;
      response = await call(method, path, { token: state.accessToken, body });
    }
    return response;
  };
  let archiveFailure;
  if (state.postId) {
    // Users cannot delete posts; archiving hides it at once even if the account deletion fails.
    try {
      const archived = await asOwner("PATCH", `/v1/posts/${state.postId}`, { status: "archived" });
      expectStatus(archived, 200, "clean-up: PATCH /v1/posts/:id (archive)");
      check(archived.body?.status === "archived", "clean-up: the post is not archived");
      step("clean-up: PATCH /v1/posts/:id → 200 archived");
    } catch (error) {
      // Deleting the account removes the post too: still try that, then report this.
      archiveFailure = error;
    }
  }
  const deleted = await asOwner("DELETE", "/v1/users/me");
  expectStatus(deleted, 204, "clean-up: DELETE /v1/users/me");
  step("clean-up: DELETE /v1/users/me → 204");

  const refused = await call("POST", "/v1/auth/login", { body: { email, password } });
  expectError(refused, 401, "AuthenticationError", "clean-up: login after deleting the account");
  if (state.postId) {
    const gone = await call("GET", `/v1/posts/${state.postId}`);
    expectError(gone, 404, "NotFoundError", "clean-up: anonymous GET of the deleted account's post");
  }
  step("clean-up: login → 401 and the post → 404: account and post are gone");
  if (archiveFailure) throw archiveFailure;
}

function describe(error) {
  return error instanceof SmokeFailure ? error.message : (error.stack ?? String(error));
}

console.log(`smoke: ${BASE} as ${email}`);
let failure;
try {
  await flow();
} catch (error) {
  failure = error;
  console.error(`FAIL ${describe(error)}`);
}
try {
  await cleanUp();
} catch (error) {
  failure ??= error;
  console.error(`FAIL ${describe(error)} (while cleaning up account ${email}, id ${state.userId})`);
}
if (failure) {
  console.error(`smoke: FAILED against ${BASE}: ${describe(failure)}`);
  process.exit(1);
}
console.log(`smoke: ${checks} checks passed against ${BASE}`);
