// The e2e conformance check (test/e2e/conformance.ts) has teeth: answers the built /openapi.json
// does not allow are reported, each for its own reason, and conforming ones pass. The e2e run
// applies the same check to every exchange it records (test/e2e/conformance-setup.ts).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_FALLBACKS, Conformance, type OpenApi, type Verdict } from "../e2e/conformance";
import type { Exchange } from "../e2e/recording-proxy";

/** What scripts/build-openapi.mjs wrote before the tests (GET /openapi.json serves it). */
const document = JSON.parse(readFileSync(new URL("../../public/openapi.json", import.meta.url), "utf8")) as OpenApi;
const conformance = new Conformance(document, API_FALLBACKS);

const REQUEST_ID = "01a24249-7d22-712b-812a-b1735e0d3485";
const JSON_HEADERS = { "content-type": "application/json; charset=utf-8", "x-request-id": REQUEST_ID };
const CONDUIT_401: Exchange = {
  seq: 1,
  method: "POST",
  url: "/api/users/login",
  status: 401,
  headers: { ...JSON_HEADERS, "www-authenticate": 'Token realm="edge-posts-api"' },
  body: JSON.stringify({ errors: { body: ["Invalid email or password"] } }),
};
const V1_404: Exchange = {
  seq: 2,
  method: "GET",
  url: "/v1/posts/some-id",
  status: 404,
  headers: JSON_HEADERS,
  body: JSON.stringify({ error: "not found", type: "NotFoundError", details: {}, request_id: REQUEST_ID }),
};

function problemsOf(verdict: Verdict): string {
  return verdict.kind === "violation" ? verdict.problems.join("; ") : "";
}

describe("the conformance check", () => {
  it("accepts conforming answers: a Conduit 401 from login, a /v1 404, a 405 with the right Allow", () => {
    expect(conformance.check(CONDUIT_401)).toMatchObject({ kind: "checked", operation: "POST /api/users/login" });
    expect(conformance.check(V1_404)).toMatchObject({ kind: "checked", operation: "GET /v1/posts/{id}" });
    const methodNotAllowed = conformance.check({
      ...V1_404,
      method: "PUT",
      status: 405,
      headers: { ...JSON_HEADERS, allow: "DELETE, GET, HEAD, PATCH" },
      body: JSON.stringify({ error: "no", type: "MethodNotAllowedError", details: {}, request_id: REQUEST_ID }),
    });
    expect(methodNotAllowed).toMatchObject({ kind: "checked" });
  });

  it("rejects a status the operation does not list", () => {
    expect(problemsOf(conformance.check({ ...CONDUIT_401, status: 418 }))).toMatch(
      /^status 418 is not a documented response \(documented: 200, 401,/,
    );
  });

  it("rejects a missing required header and a header value outside its schema", () => {
    const { "www-authenticate": _, ...withoutChallenge } = CONDUIT_401.headers;
    expect(problemsOf(conformance.check({ ...CONDUIT_401, headers: withoutChallenge }))).toBe(
      "header WWW-Authenticate is required but missing",
    );
    const { "x-request-id": __, ...withoutId } = V1_404.headers;
    expect(problemsOf(conformance.check({ ...V1_404, headers: withoutId }))).toBe(
      "header X-Request-Id is required but missing",
    );
    const cached = conformance.check({ ...V1_404, status: 200, headers: { ...JSON_HEADERS, "x-cache": "STALE" } });
    expect(problemsOf(cached)).toContain('header X-Cache: "STALE"');
  });

  it("rejects a body outside the schema, a wrong media type and a body where none is declared", () => {
    const wrongEnvelope = conformance.check({ ...CONDUIT_401, body: V1_404.body });
    expect(problemsOf(wrongEnvelope)).toMatch(/^body: /);
    const html = conformance.check({ ...V1_404, headers: { ...JSON_HEADERS, "content-type": "text/html" } });
    expect(problemsOf(html)).toBe('Content-Type "text/html" is not declared (declared: application/json)');
    const deleted = conformance.check({ ...V1_404, method: "DELETE", url: "/v1/users/me", status: 204, body: "{}" });
    expect(problemsOf(deleted)).toBe('the document declares no body, got "{}"');
  });

  it("rejects answers to paths and methods the document does not have, except a conforming 404 and 405", () => {
    expect(problemsOf(conformance.check({ ...V1_404, url: "/v1/nowhere", status: 200 }))).toBe(
      "the document has no such path: only 404 is allowed",
    );
    expect(conformance.check({ ...V1_404, url: "/v1/nowhere" })).toMatchObject({ kind: "checked" });
    expect(problemsOf(conformance.check({ ...V1_404, method: "PUT", status: 200 }))).toMatch(
      /no put operation here .*only 405 is allowed/,
    );
    const wrongAllow = conformance.check({
      ...V1_404,
      method: "PUT",
      status: 405,
      headers: { ...JSON_HEADERS, allow: "GET" },
      body: JSON.stringify({ error: "no", type: "MethodNotAllowedError", details: {}, request_id: REQUEST_ID }),
    });
    expect(problemsOf(wrongAllow)).toBe('Allow "GET" is not the documented methods (DELETE, GET, HEAD, PATCH)');
  });
});
