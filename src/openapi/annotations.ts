import type { MiddlewareHandler } from "hono";
import type { $ZodType } from "zod/v4/core";

/**
 * Route documentation lives on the route's own handlers: `describeRoute()` adds summary and
 * responses, `validate()` adds the request schemas it enforces. The OpenAPI generator reads both
 * back from Hono's route list, so the document cannot drift from the code.
 */
const ANNOTATION = Symbol("openapi");

export type SuccessStatus = 200 | 201 | 202 | 204;
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 412 | 413 | 415 | 422 | 429 | 503;

export type RouteDoc = {
  summary: string;
  description?: string;
  tag: "auth" | "users" | "posts" | "health" | "docs" | "conduit";
  /** `optional`: works anonymously, and a bearer token changes what is visible. */
  auth: "none" | "optional" | "required";
  success: { status: SuccessStatus; description: string; schema?: $ZodType; headers?: Record<string, string> };
  /** Error statuses this route can answer beyond the ones every route shares. */
  errors: ErrorStatus[];
  /** Supports `If-None-Match` → 304. */
  conditionalGet?: boolean;
  /** Non-JSON response (the docs page). */
  contentType?: string;
};

export type RequestPart = { target: "json" | "query" | "param" | "header"; schema: $ZodType };

export type Annotation = { kind: "doc"; doc: RouteDoc } | { kind: "request"; part: RequestPart };

export function annotate<H extends MiddlewareHandler>(handler: H, annotation: Annotation): H {
  Object.defineProperty(handler, ANNOTATION, { value: annotation });
  return handler;
}

export function annotationOf(handler: unknown): Annotation | undefined {
  if (typeof handler !== "function") return undefined;
  return (handler as unknown as { [ANNOTATION]?: Annotation })[ANNOTATION];
}

/** A no-op middleware that carries the route's documentation. */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  return annotate(
    async (_c, next) => {
      await next();
    },
    { kind: "doc", doc },
  );
}
