import type { Hono } from "hono";
import * as z from "zod/mini";
import type { $ZodType } from "zod/v4/core";
import type { AppEnv } from "../app-env";
import { endpointsOf } from "../lib/endpoints";
import { errorSchema } from "../schemas/common";
import { conduitErrorSchema } from "../schemas/conduit";
import { annotationOf, type ErrorStatus, type RequestPart, type RouteDoc } from "./annotations";

type JsonObject = Record<string, unknown>;

const EXAMPLE_ID = "019ac2e4-5b7a-7c31-9d2e-4f1a2b3c4d5e";

/** Each error type with an example of its `details` (`{}` when the type has nothing to add). */
const ERROR_DESCRIPTIONS: Record<
  Exclude<ErrorStatus, 422> | 405 | 500,
  { type: string; description: string; details: JsonObject }
> = {
  400: {
    type: "ValidationError",
    description: "Invalid request; `details.issues` lists each field",
    details: { issues: [{ path: "title", message: "Too small: expected string to have >=1 characters" }] },
  },
  401: {
    type: "AuthenticationError",
    description: "Missing, invalid, expired or revoked token, or bad credentials",
    details: {},
  },
  403: { type: "PermissionError", description: "Authenticated, but the role may not do this", details: {} },
  404: {
    type: "NotFoundError",
    description: "No such resource, or one the caller may not see",
    details: { resource: "post", id: EXAMPLE_ID },
  },
  405: {
    type: "MethodNotAllowedError",
    description: "The path exists, but not with this method; `Allow` lists the ones it has",
    details: { allowed: ["GET", "HEAD", "POST"] },
  },
  409: { type: "ConflictError", description: "Conflict with the current state", details: { field: "email" } },
  412: {
    type: "PreconditionFailedError",
    description: "`If-Match` did not match the current version",
    details: { current_etag: '"3-1kq0z7n"' },
  },
  413: { type: "PayloadTooLargeError", description: "Request body over the limit", details: { limit_bytes: 65536 } },
  415: { type: "UnsupportedMediaTypeError", description: "Request body is not JSON", details: {} },
  429: {
    type: "RateLimitError",
    description: "Too many requests; see `Retry-After`",
    details: { retry_after_seconds: 60 },
  },
  500: { type: "InternalError", description: "Unexpected error", details: {} },
  503: {
    type: "ServiceUnavailableError",
    description: "A dependency is unavailable or the configuration is invalid",
    details: { dependency: "d1" },
  },
};

/** The RealWorld surface's errors: its own shape; validation failures and taken names are 422. */
const CONDUIT_ERRORS: Record<number, string> = {
  401: "Missing, invalid, expired or revoked token, or bad credentials",
  403: "Signed in, but the role may not do this",
  404: "No such article, profile or comment",
  405: "Method not allowed",
  413: "Request body over the limit",
  415: "Request body is not JSON",
  422: "Invalid request, or the email or username is taken",
  429: "Too many requests; see `Retry-After`",
  500: "Unexpected error",
  503: "A dependency is unavailable",
};
const isConduitRoute = (path: string) => path.startsWith("/api/");
const conduitStatus = (status: ErrorStatus | 500) => (status === 400 || status === 409 ? 422 : status);

const HEADER_NAMES: Record<string, string> = { "idempotency-key": "Idempotency-Key" };

/** API.md §1: every response carries it (the incoming one when sane, else a generated one). */
const REQUEST_ID_HEADER = { $ref: "#/components/headers/X-Request-Id" };

/** The values a response header may take, where the document can say more than "a string". */
const HEADER_SCHEMAS: Record<string, JsonObject> = {
  ETag: { type: "string", pattern: '^(W/)?"[\\x21\\x23-\\x7e]*"$' },
  "X-Cache": { type: "string", enum: ["HIT", "MISS", "BYPASS"] },
  "Cache-Control": { type: "string", pattern: "^(public, max-age=\\d+|private, no-store)$" },
  Location: { type: "string", format: "uri-reference" },
};
const headerSchema = (name: string): JsonObject => HEADER_SCHEMAS[name] ?? { type: "string" };

/** Converts zod schemas to OpenAPI 3.1 schemas, hoisting named ones into components. */
class SchemaConverter {
  readonly components: Record<string, unknown> = {};

  convert(schema: $ZodType, io: "input" | "output"): JsonObject {
    const raw = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonObject;
    const text = JSON.stringify(raw).replaceAll('"#/$defs/', '"#/components/schemas/');
    const { $schema: _dialect, $defs, ...rest } = JSON.parse(text) as JsonObject & { $defs?: Record<string, unknown> };
    for (const [name, definition] of Object.entries($defs ?? {})) this.components[name] = definition;
    return rest;
  }
}

function openApiPath(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z_]+)/g, "{$1}");
}

function parametersOf(part: RequestPart, converter: SchemaConverter): JsonObject[] {
  const location = part.target === "param" ? "path" : part.target;
  const object = converter.convert(part.schema, "input") as {
    properties?: Record<string, JsonObject>;
    required?: string[];
  };
  return Object.entries(object.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name: HEADER_NAMES[name] ?? name,
      in: location,
      required: location === "path" || (object.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function securityOf(auth: RouteDoc["auth"], scheme: "bearerAuth" | "conduitToken"): JsonObject[] {
  if (auth === "required") return [{ [scheme]: [] }];
  if (auth === "optional") return [{}, { [scheme]: [] }];
  return [];
}

function operationOf(doc: RouteDoc, parts: RequestPart[], path: string, converter: SchemaConverter): JsonObject {
  const parameters = parts.filter((part) => part.target !== "json").flatMap((part) => parametersOf(part, converter));
  const body = parts.find((part) => part.target === "json");
  const errors = new Set<ErrorStatus | 500>(doc.errors);
  if (parts.length > 0) errors.add(400);
  if (doc.auth !== "none") errors.add(401);
  if (body) {
    errors.add(413);
    errors.add(415);
  }
  errors.add(500);
  if (path.startsWith("/v1/") || isConduitRoute(path) || path === "/health/ready") errors.add(503);

  const responses: Record<string, unknown> = {};
  const { success } = doc;
  const successHeaders = Object.fromEntries(
    Object.entries(success.headers ?? {}).map(([name, description]) => [
      name,
      { description, schema: headerSchema(name) },
    ]),
  );
  responses[String(success.status)] = {
    description: success.description,
    headers: { "X-Request-Id": REQUEST_ID_HEADER, ...successHeaders },
    ...(success.schema
      ? {
          content: { [doc.contentType ?? "application/json"]: { schema: converter.convert(success.schema, "output") } },
        }
      : doc.contentType
        ? { content: { [doc.contentType]: { schema: { type: "string" } } } }
        : {}),
  };
  if (doc.conditionalGet) {
    responses["304"] = {
      description: "Not modified (`If-None-Match` matched); no body",
      headers: {
        "X-Request-Id": REQUEST_ID_HEADER,
        ETag: { description: "The current version", required: true, schema: headerSchema("ETag") },
      },
    };
  }
  const conduit = isConduitRoute(path);
  for (const status of [...errors].sort()) {
    if (conduit)
      responses[String(conduitStatus(status))] = { $ref: `#/components/responses/Conduit${conduitStatus(status)}` };
    else if (status !== 422)
      responses[String(status)] = { $ref: `#/components/responses/${ERROR_DESCRIPTIONS[status].type}` };
  }

  return {
    operationId: `${doc.tag}_${doc.summary.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "")}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: securityOf(doc.auth, isConduitRoute(path) ? "conduitToken" : "bearerAuth"),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: converter.convert(body.schema, "input") } },
          },
        }
      : {}),
    responses,
  };
}

/** The headers of an error response: the request id, and what 401, 405 and 429 always carry. */
function errorHeaders(status: string, authScheme: "Bearer" | "Token"): JsonObject {
  const headers: JsonObject = { "X-Request-Id": REQUEST_ID_HEADER };
  if (status === "401") {
    headers["WWW-Authenticate"] = {
      description: `\`${authScheme}\`, with the realm`,
      required: true,
      schema: { type: "string", pattern: `^${authScheme}( |$)` },
    };
  }
  if (status === "405") {
    headers.Allow = { description: "The methods this path has", required: true, schema: { type: "string" } };
  }
  if (status === "429") {
    headers["Retry-After"] = {
      description: "Seconds until a retry may succeed",
      required: true,
      schema: { type: "integer", minimum: 0 },
    };
  }
  return headers;
}

export type OpenApiDocument = JsonObject & { paths: Record<string, Record<string, JsonObject>> };

/**
 * Builds the OpenAPI 3.1 document from the app's own routes: every non-middleware route must
 * carry a `describeRoute()`, and its request schemas come from the `validate()` it runs.
 */
export function buildOpenApiDocument(app: Hono<AppEnv>): OpenApiDocument {
  const converter = new SchemaConverter();
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const { method, path, handlers } of endpointsOf(app)) {
    const annotations = handlers.map(annotationOf).filter((annotation) => annotation !== undefined);
    const doc = annotations.find((annotation) => annotation.kind === "doc")?.doc;
    if (!doc) throw new Error(`Route ${method} ${path} has no describeRoute()`);
    const parts = annotations.flatMap((annotation) => (annotation.kind === "request" ? [annotation.part] : []));
    const item = paths[openApiPath(path)] ?? {};
    item[method.toLowerCase()] = operationOf(doc, parts, path, converter);
    paths[openApiPath(path)] = item;
  }

  const errorComponent = converter.convert(errorSchema, "output");
  const responses: Record<string, unknown> = Object.fromEntries(
    Object.entries(ERROR_DESCRIPTIONS).map(([status, { type, description, details }]) => [
      type,
      {
        description: `${status} ${description}`,
        headers: errorHeaders(status, "Bearer"),
        content: {
          "application/json": {
            schema: errorComponent,
            example: { error: description, type, details, request_id: EXAMPLE_ID },
          },
        },
      },
    ]),
  );

  const conduitErrorComponent = converter.convert(conduitErrorSchema, "output");
  for (const [status, description] of Object.entries(CONDUIT_ERRORS)) {
    responses[`Conduit${status}`] = {
      description: `${status} ${description}`,
      headers: errorHeaders(status, "Token"),
      content: {
        "application/json": { schema: conduitErrorComponent, example: { errors: { body: [description] } } },
      },
    };
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "Edge Posts API",
      version: "1.0.0",
      description:
        "Users and posts at the edge. Every error has the shape of the `Error` schema; every response carries `X-Request-Id`.",
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "auth", description: "Sign-up, sign-in and token refresh" },
      { name: "users", description: "Accounts and profiles" },
      { name: "posts", description: "Posts, with drafts visible only to their authors and admins" },
      { name: "health", description: "Liveness and readiness" },
      { name: "docs", description: "This document and its reference page" },
      {
        name: "conduit",
        description:
          "The RealWorld (Conduit) API at `/api`: the same users and posts in RealWorld's envelopes, `Authorization: Token <jwt>`, and errors as `{errors: {body: [...]}}`.",
      },
    ],
    paths,
    components: {
      schemas: converter.components,
      responses,
      headers: {
        "X-Request-Id": {
          description: "The request's id: the incoming `X-Request-Id` when it is a sane token, else a generated one",
          required: true,
          schema: { type: "string", pattern: "^[A-Za-z0-9._:-]{1,128}$" },
        },
      },
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        conduitToken: {
          type: "apiKey",
          in: "header",
          name: "Authorization",
          description: "`Token <jwt>`, the access token from `/api/users` or `/api/users/login`",
        },
      },
    },
  };
}
