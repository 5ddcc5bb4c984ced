// Checks recorded HTTP exchanges against an OpenAPI 3.1 document: the path and method must be an
// operation of the document, the status one of that operation's responses, each header the
// response declares must match its schema (and be present when `required`), and the body must
// have a declared media type and, for JSON, match the declared schema. The schemas are checked by
// @cfworker/json-schema (JSON Schema 2020-12, the dialect of OpenAPI 3.1), with the whole document
// loaded so that `#/components/...` references resolve as they do for any OpenAPI tool.
import { type OutputUnit, type Schema, Validator } from "@cfworker/json-schema";
import type { Exchange } from "./recording-proxy";

type JsonObject = Record<string, unknown>;
export type OpenApi = JsonObject & { paths: Record<string, Record<string, JsonObject>> };

/** The base URI the document is loaded under, so JSON pointers into it are absolute. */
const DOCUMENT_ID = "https://conformance.invalid/openapi.json";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/** Paths whose every answer must be an operation of the document. */
const API_PREFIXES = ["/v1/", "/api/", "/health"];

export type Verdict =
  | { kind: "checked"; operation: string; status: number }
  | { kind: "skipped"; reason: string }
  | { kind: "violation"; operation: string; status: number; problems: string[] };

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const escapePointer = (token: string) => token.replaceAll("~", "~0").replaceAll("/", "~1");

function at(document: JsonObject, pointer: string): unknown {
  let node: unknown = document;
  for (const raw of pointer.split("/").slice(1)) {
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    node = isObject(node) ? node[token] : undefined;
  }
  return node;
}

/** The object at `pointer`, following `$ref`s within the document; with its final pointer. */
function resolved(document: JsonObject, pointer: string): { node: JsonObject; pointer: string } | undefined {
  let current = pointer;
  for (let hops = 0; hops < 10; hops += 1) {
    const node = at(document, current);
    if (!isObject(node)) return undefined;
    const ref = node.$ref;
    if (typeof ref !== "string") return { node, pointer: current };
    if (!ref.startsWith("#/")) throw new Error(`unsupported $ref ${ref} at ${current}`);
    current = ref.slice(1);
  }
  throw new Error(`$ref chain too long at ${pointer}`);
}

type Route = { template: string; pattern: RegExp; literalSegments: number };

function routesOf(document: OpenApi): Route[] {
  return (
    Object.keys(document.paths)
      .map((template) => {
        const segments = template.split("/");
        const source = segments
          .map((segment) => (/^\{[^}]+\}$/.test(segment) ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
          .join("/");
        return {
          template,
          pattern: new RegExp(`^${source}$`),
          literalSegments: segments.filter((segment) => !segment.startsWith("{")).length,
        };
      })
      // A literal segment wins over a parameter: /api/articles/feed is not /api/articles/{slug}.
      .sort((a, b) => b.literalSegments - a.literalSegments)
  );
}

const describeErrors = (errors: OutputUnit[]) =>
  errors
    .filter((error) => error.keyword !== "properties" && error.keyword !== "$ref" && error.keyword !== "allOf")
    .map((error) => `${error.instanceLocation}: ${error.error}`)
    .slice(0, 8)
    .join("; ");

/**
 * What an API must answer where the document has no operation, which no OpenAPI document can list
 * per operation: the component response (a pointer into the document, e.g.
 * `/components/responses/NotFoundError`) for a path it does not have (404), and for a method a path
 * does not have (405, whose `Allow` must then list exactly the path's documented methods).
 */
export type Fallbacks = { notFound: (path: string) => string; methodNotAllowed: (path: string) => string };

/** This API's answers to a path or a method its document does not have (src/openapi/document.ts). */
export const API_FALLBACKS: Fallbacks = {
  notFound: (path) => `/components/responses/${path.startsWith("/api/") ? "Conduit404" : "NotFoundError"}`,
  methodNotAllowed: (path) =>
    `/components/responses/${path.startsWith("/api/") ? "Conduit405" : "MethodNotAllowedError"}`,
};

/** Validates exchanges against one OpenAPI document. */
export class Conformance {
  private readonly routes: Route[];
  private readonly validators = new Map<string, Validator>();

  constructor(
    private readonly document: OpenApi,
    private readonly fallbacks: Fallbacks,
  ) {
    if (typeof document.openapi !== "string" || !document.openapi.startsWith("3.1")) {
      throw new Error(`expected an OpenAPI 3.1 document, got ${String(document.openapi)}`);
    }
    this.routes = routesOf(document);
  }

  private schemaErrors(pointer: string, instance: unknown): string | undefined {
    let validator = this.validators.get(pointer);
    if (!validator) {
      validator = new Validator({ $ref: `${DOCUMENT_ID}#${pointer}` }, "2020-12", false);
      validator.addSchema(structuredClone(this.document) as Schema, DOCUMENT_ID);
      this.validators.set(pointer, validator);
    }
    const result = validator.validate(instance);
    return result.valid ? undefined : describeErrors(result.errors) || "does not match";
  }

  check(exchange: Exchange): Verdict {
    const path = new URL(exchange.url, "http://conformance.invalid").pathname;
    const method = exchange.method.toLowerCase();
    if (method === "options") return { kind: "skipped", reason: "CORS preflight (not an operation)" };
    const route = this.routes.find((candidate) => candidate.pattern.test(path));
    if (!route) {
      const inScope = API_PREFIXES.some((prefix) => path === prefix.replace(/\/$/, "") || path.startsWith(prefix));
      if (!inScope) return { kind: "skipped", reason: `not an API path (${path})` };
      const operation = `${exchange.method} ${path} (no such path)`;
      if (exchange.status !== 404) {
        return verdict(exchange, operation, [`the document has no such path: only 404 is allowed`]);
      }
      return verdict(exchange, operation, this.checkResponse(exchange, this.fallbacks.notFound(path)));
    }
    const operationMethod = method === "head" ? "get" : method;
    const operation = `${exchange.method} ${route.template}`;
    const operationPointer = `/paths/${escapePointer(route.template)}/${operationMethod}`;
    if (!isObject(at(this.document, operationPointer))) {
      const declared = METHODS.filter((name) => isObject(this.document.paths[route.template]?.[name]));
      if (exchange.status !== 405) {
        return verdict(exchange, operation, [
          `the document has no ${operationMethod} operation here (only ${declared.join(", ")}): only 405 is allowed`,
        ]);
      }
      const expected = new Set(declared.map((name) => name.toUpperCase()));
      if (expected.has("GET")) expected.add("HEAD");
      const allow = new Set((exchange.headers.allow ?? "").split(",").map((name) => name.trim().toUpperCase()));
      allow.delete("OPTIONS");
      allow.delete("");
      const problems = this.checkResponse(exchange, this.fallbacks.methodNotAllowed(path));
      const want = [...expected].sort().join(", ");
      if ([...allow].sort().join(", ") !== want) {
        problems.push(`Allow ${JSON.stringify(exchange.headers.allow)} is not the documented methods (${want})`);
      }
      return verdict(exchange, operation, problems);
    }
    const responses = at(this.document, `${operationPointer}/responses`);
    const declaredStatuses = isObject(responses) ? Object.keys(responses) : [];
    const statusKey = [String(exchange.status), `${String(exchange.status)[0]}XX`, "default"].find((key) =>
      declaredStatuses.includes(key),
    );
    if (!statusKey) {
      return verdict(exchange, operation, [
        `status ${exchange.status} is not a documented response (documented: ${declaredStatuses.join(", ")})`,
      ]);
    }
    const pointer = `${operationPointer}/responses/${escapePointer(statusKey)}`;
    return verdict(exchange, operation, this.checkResponse(exchange, pointer));
  }

  /** The answer's problems against the Response Object at `pointer`: headers, media type, body. */
  private checkResponse(exchange: Exchange, pointer: string): string[] {
    const response = resolved(this.document, pointer);
    if (!response) return [`response ${pointer} does not resolve`];
    const problems: string[] = [];

    const headers = isObject(response.node.headers) ? response.node.headers : {};
    for (const name of Object.keys(headers)) {
      // OpenAPI 3.1 §4.8.17.1: a Content-Type header definition is ignored.
      if (name.toLowerCase() === "content-type") continue;
      const header = resolved(this.document, `${response.pointer}/headers/${escapePointer(name)}`);
      if (!header) {
        problems.push(`header ${name}: definition does not resolve`);
        continue;
      }
      const value = exchange.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.node.required === true) problems.push(`header ${name} is required but missing`);
        continue;
      }
      if (!isObject(header.node.schema)) continue;
      const type = header.node.schema.type;
      const numeric = (type === "integer" || type === "number") && /^-?\d+(\.\d+)?$/.test(value);
      const error = this.schemaErrors(`${header.pointer}/schema`, numeric ? Number(value) : value);
      if (error) problems.push(`header ${name}: ${JSON.stringify(value)} ${error}`);
    }

    if (exchange.method === "HEAD" || exchange.status === 304) return problems;
    const content = isObject(response.node.content) ? response.node.content : undefined;
    if (!content) {
      if (exchange.body !== "") {
        problems.push(`the document declares no body, got ${JSON.stringify(exchange.body.slice(0, 120))}`);
      }
      return problems;
    }
    const contentType = (exchange.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const mediaType = Object.keys(content).find((name) => name.toLowerCase() === contentType);
    if (!mediaType) {
      const declared = Object.keys(content).join(", ");
      problems.push(`Content-Type ${JSON.stringify(contentType)} is not declared (declared: ${declared})`);
      return problems;
    }
    if (!/^application\/([a-z0-9.+-]+\+)?json$/.test(contentType)) return problems;
    let body: unknown;
    try {
      body = JSON.parse(exchange.body);
    } catch {
      problems.push(`the body is not JSON: ${JSON.stringify(exchange.body.slice(0, 80))}`);
      return problems;
    }
    const media = content[mediaType];
    if (isObject(media) && "schema" in media) {
      const error = this.schemaErrors(`${response.pointer}/content/${escapePointer(mediaType)}/schema`, body);
      if (error) problems.push(`body: ${error}`);
    }
    return problems;
  }
}

function verdict(exchange: Exchange, operation: string, problems: string[]): Verdict {
  return problems.length > 0
    ? { kind: "violation", operation, status: exchange.status, problems }
    : { kind: "checked", operation, status: exchange.status };
}

/** One line per violation, e.g. `POST /api/users/login → 401: status 401 is not a documented response`. */
export function report(exchanges: Exchange[], verdicts: Verdict[]): string[] {
  return verdicts.flatMap((verdict, index) =>
    verdict.kind === "violation"
      ? [
          `${exchanges[index]?.method} ${exchanges[index]?.url} (${verdict.operation}) → ${verdict.status}: ${verdict.problems.join("; ")}`,
        ]
      : [],
  );
}

/** Which documented operations the checked exchanges exercised, with the statuses seen. */
export function coverage(document: OpenApi, verdicts: Verdict[]) {
  const seen: Record<string, number[]> = {};
  for (const verdict of verdicts) {
    if (verdict.kind === "skipped") continue;
    const operation = verdict.operation.replace(/^HEAD /, "GET ");
    const statuses = seen[operation] ?? [];
    if (!statuses.includes(verdict.status)) statuses.push(verdict.status);
    seen[operation] = statuses.sort();
  }
  const documented = Object.entries(document.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((method) => METHODS.includes(method))
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
  return { operations: seen, unexercised: documented.filter((operation) => !(operation in seen)) };
}
