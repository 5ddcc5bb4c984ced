import { Validator } from "@cfworker/json-schema";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/app";
import { buildOpenApiDocument } from "../src/openapi/document";
import { api, createAdmin, createPost, createUser, json } from "./helpers";

type Operation = {
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  security?: unknown[];
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, unknown>;
    responses: Record<string, { content: Record<string, { schema: unknown }> }>;
  };
};

let doc: Document;

beforeAll(async () => {
  const response = await api("/openapi.json");
  expect(response.status).toBe(200);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  doc = await json<Document>(response);
});

/** Every (method, path) the app serves, from Hono's own route list. */
function appRoutes(): string[] {
  const routes = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    routes.add(`${route.method} ${route.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`);
  }
  return [...routes].sort();
}

function documentedRoutes(): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 with a bearer scheme", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(JSON.stringify(doc.components)).toContain('"bearerAuth"');
  });

  it("is the document the generator builds from the current routes and schemas", () => {
    // Served from the string scripts/build-openapi.mjs wrote before the tests; a stale or broken
    // build (a schema changed, the build script skipped or wrong) differs from this.
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(app))));
  });

  it("documents exactly the routes the app serves (inventory)", () => {
    expect(documentedRoutes()).toEqual(appRoutes());
    expect(appRoutes().length).toBeGreaterThanOrEqual(20);
  });

  it("documents request schemas where the routes validate them", () => {
    const create = doc.paths["/v1/posts"]?.post;
    expect(create?.requestBody).toBeTruthy();
    expect(create?.parameters?.map((p) => p.name)).toContain("Idempotency-Key");
    expect(doc.paths["/v1/posts"]?.get?.parameters?.map((p) => p.name).sort()).toEqual([
      "author_id",
      "cursor",
      "limit",
      "status",
    ]);
    expect(doc.paths["/v1/posts/{id}"]?.get?.parameters?.[0]).toMatchObject({ name: "id", in: "path" });
    expect(doc.paths["/v1/users/me"]?.get?.security).toEqual([{ bearerAuth: [] }]);
  });

  it("gives every operation its surface's error envelope for its error statuses", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const operation of Object.values(item)) {
        const errors = Object.entries(operation.responses).filter(([status]) => Number(status) >= 400);
        expect(errors.length).toBeGreaterThan(0);
        for (const [status, response] of errors) {
          // The RealWorld surface never answers with the /v1 envelope, nor /v1 with RealWorld's.
          if (path.startsWith("/api/")) expect(response.$ref).toBe(`#/components/responses/Conduit${status}`);
          else expect(response.$ref).toMatch(/^#\/components\/responses\/\w+Error$/);
        }
      }
    }
  });
});

/** Validates a body against the document's schema for that operation and status. */
function conforms(path: string, method: string, status: number, body: unknown): void {
  const response = doc.paths[path]?.[method]?.responses[String(status)];
  expect(response, `${method} ${path} documents ${status}`).toBeTruthy();
  const target = response?.$ref
    ? doc.components.responses[response.$ref.split("/").at(-1) ?? ""]
    : (response as { content?: Record<string, { schema: unknown }> });
  const schema = target?.content?.["application/json"]?.schema;
  expect(schema).toBeTruthy();
  // The document's refs point into components; a standalone JSON Schema keeps them in $defs.
  const standalone = JSON.parse(
    JSON.stringify({ ...(schema as object), $defs: doc.components.schemas }).replaceAll(
      "#/components/schemas/",
      "#/$defs/",
    ),
  );
  const result = new Validator(standalone, "2020-12", false).validate(body);
  expect(result.errors, `${method} ${path} ${status}: ${JSON.stringify(result.errors.slice(0, 3))}`).toEqual([]);
}

describe("responses conform to the document", () => {
  it("auth, users, posts and errors", async () => {
    const email = `conform-${Date.now()}@example.com`;
    const register = await api("/v1/auth/register", {
      method: "POST",
      body: { email, name: "Conform", password: "conformance pw" },
    });
    conforms("/v1/auth/register", "post", 201, await json(register));
    const login = await api("/v1/auth/login", { method: "POST", body: { email, password: "conformance pw" } });
    const pair = await json<{ access_token: string; refresh_token: string; user: { id: string } }>(login);
    conforms("/v1/auth/login", "post", 200, pair);
    const refresh = await api("/v1/auth/refresh", { method: "POST", body: { refresh_token: pair.refresh_token } });
    conforms("/v1/auth/refresh", "post", 200, await json(refresh));

    conforms("/v1/users/me", "get", 200, await json(await api("/v1/users/me", { token: pair.access_token })));
    const post = await createPost(pair.access_token, { status: "published" });
    conforms("/v1/posts/{id}", "get", 200, await json(await api(`/v1/posts/${post.id}`)));
    conforms("/v1/posts", "get", 200, await json(await api("/v1/posts?limit=2")));
    conforms("/v1/users/{id}/posts", "get", 200, await json(await api(`/v1/users/${pair.user.id}/posts`)));
    const patched = await api(`/v1/posts/${post.id}`, {
      method: "PATCH",
      token: pair.access_token,
      body: { title: "T" },
    });
    conforms("/v1/posts/{id}", "patch", 200, await json(patched));
    conforms("/v1/users/{id}", "get", 200, await json(await api(`/v1/users/${pair.user.id}`)));

    const admin = await createAdmin();
    conforms("/v1/users", "get", 200, await json(await api("/v1/users?limit=3", { token: admin.access_token })));
    conforms(
      "/v1/users/{id}",
      "get",
      200,
      await json(await api(`/v1/users/${pair.user.id}`, { token: admin.access_token })),
    );

    conforms("/v1/posts/{id}", "get", 404, await json(await api("/v1/posts/unknown-id")));
    conforms(
      "/v1/posts",
      "post",
      400,
      await json(await api("/v1/posts", { method: "POST", token: pair.access_token, body: {} })),
    );
    conforms("/v1/users/me", "get", 401, await json(await api("/v1/users/me")));
    const reset = await api("/v1/auth/password-reset", { method: "POST", body: { email: "nobody@example.com" } });
    conforms("/v1/auth/password-reset", "post", 202, await json(reset));
    const badToken = { token: "not-a-link-token", password: "conformance pw" };
    const confirm = await api("/v1/auth/password-reset/confirm", { method: "POST", body: badToken });
    conforms("/v1/auth/password-reset/confirm", "post", 400, await json(confirm));
    const other = await createUser();
    conforms("/v1/users", "get", 403, await json(await api("/v1/users", { token: other.access_token })));
    conforms("/health", "get", 200, await json(await api("/health")));
    conforms("/health/ready", "get", 200, await json(await api("/health/ready")));
  });
});

describe("GET /docs", () => {
  it("serves the reference page that loads Swagger UI from this Worker", async () => {
    const response = await api("/docs");
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toContain("text/html");
    const html = await response.text();
    expect(html).toContain('src="/docs-assets/swagger-ui-bundle.js"');
    expect(html).not.toMatch(/https?:\/\//);
  });
});
