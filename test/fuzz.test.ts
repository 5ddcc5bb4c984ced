import { env } from "cloudflare:workers";
import fc from "fast-check";
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/app";
import { toBase64Url } from "../src/lib/encoding";
import { api, createAdmin, createPost, createUser, json, type Session, withRole } from "./helpers";
import { fuzzSeed, PROPERTY_TIMEOUT_MS, SHRINK_TIME_LIMIT_MS } from "./seed";

/**
 * Property-based fuzzing of every route. Reproduce a run with its seed:
 * `VITE_FUZZ_SEED=<seed> npx vitest run --project workers test/fuzz.test.ts` (workerd only sees
 * the runner's environment variables that Vite forwards, i.e. `VITE_*`; `FUZZ_SEED` is read too
 * in case a runner forwards it).
 */
const SEED = fuzzSeed();
/** One request per run; a few runs may be skipped by `fc.pre`, which fast-check replaces. */
const FUZZ_RUNS = 2_200;
const MIN_FUZZED_REQUESTS = 2_000;
const MIN_HITS_PER_ROUTE = 20;
const ROUND_TRIP_RUNS = 80;

/** The secret vitest.config.ts gives the test runtime; checked against the binding below. */
const TEST_JWT_SECRET = "test-secret-for-vitest-only-0123456789abcdef";
/** What no response may ever contain: a password hash, the signing secret, a stack trace. */
const LEAK_NEEDLES = ["pbkdf2_sha256$", TEST_JWT_SECRET, "    at ", ".ts:"];

const ERROR_TYPE_BY_STATUS: Record<number, string> = {
  400: "ValidationError",
  401: "AuthenticationError",
  403: "PermissionError",
  404: "NotFoundError",
  405: "MethodNotAllowedError",
  409: "ConflictError",
  412: "PreconditionFailedError",
  413: "PayloadTooLargeError",
  415: "UnsupportedMediaTypeError",
  428: "PreconditionRequiredError",
  429: "RateLimitError",
};
const ENVELOPE_KEYS = new Set(["error", "type", "details", "request_id"]);
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// ---------------------------------------------------------------------------------------------
// The route table, straight from the app.

type Template = { method: string; path: string };

const TEMPLATES: Template[] = [
  ...new Map(
    app.routes
      .filter((route) => route.method !== "ALL")
      .map((route) => [`${route.method} ${route.path}`, { method: route.method, path: route.path }] as const),
  ).values(),
];
const UNKNOWN_ROUTE = "unknown path";
const templateKey = (template: Template) => `${template.method} ${template.path}`;

/** Fields each body-carrying path knows, so some generated bodies get past the schema. */
const BODY_FIELDS: Record<string, string[]> = {
  "/v1/auth/register": ["email", "name", "password"],
  "/v1/auth/login": ["email", "password"],
  "/v1/auth/refresh": ["refresh_token"],
  "/v1/auth/logout": ["refresh_token"],
  "/v1/users/me": ["name", "password", "current_password"],
  "/v1/users/:id": ["name", "role", "is_active"],
  "/v1/posts": ["title", "content", "status"],
  "/v1/posts/:id": ["title", "content", "status"],
};
/** Fields no schema accepts (mass assignment and prototype tricks). */
const FOREIGN_FIELDS = ["role", "id", "author_id", "version", "is_active", "created_at", "password_hash", "__proto__"];

// ---------------------------------------------------------------------------------------------
// Arbitraries.

const NASTY_STRINGS = [
  "' OR 1=1 --",
  "'; DROP TABLE users; --",
  "; DROP TABLE users",
  '" OR ""="',
  "1 UNION SELECT password_hash FROM users",
  "admin'--",
  "%' OR '1'='1",
  "../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "..\\..\\windows\\win.ini",
  "....//....//etc/passwd",
  "/etc/passwd%00.png",
  "😀",
  "👩‍👩‍👧‍👦",
  "🏳️‍🌈",
  "مرحبا بالعالم",
  "שלום עולם",
  "\u202eevil\u202c",
  "e\u0301\u0301\u0301\u0301",
  "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
  "\ufeff",
  "\u200b",
  "\u2028\u2029",
  "\u0000",
  "\ud800",
  "\udfff",
  "null",
  "undefined",
  "NaN",
  "-0",
  "1e309",
  "true",
  "{}",
  "[]",
  "__proto__",
  "constructor",
  "$" + "{7*7}", // a template-injection probe, kept out of a template literal on purpose
  "{{7*7}}",
  "<script>alert(1)</script>",
  "\r\n\r\nX-Injected: 1",
  "%00",
  "%",
  "%zz",
  "\\u0000",
  " ",
  "",
];

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

const hugeString = fc
  .tuple(fc.constantFrom("a", "é", "😀", "' OR 1=1 --", "\u202e", "e\u0301"), fc.integer({ min: 1_000, max: 110_000 }))
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length));

const smallText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: codeUnit, maxLength: 20 }) },
);
const anyText = fc.oneof({ weight: 12, arbitrary: smallText }, { weight: 1, arbitrary: hugeString });

const emailText = fc.oneof(
  fc.emailAddress(),
  fc.emailAddress().map((email) => `  ${email.toUpperCase()}  `),
  smallText,
  smallText.map((text) => `${text}@example.com`),
);

const looseValue: fc.Arbitrary<unknown> = fc.oneof(
  anyText,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom("draft", "published", "archived", "admin", "user", "guest", "correct horse battery"),
  fc.jsonValue({ maxDepth: 3 }),
  fc.array(smallText, { maxLength: 3 }),
  fc.dictionary(smallText, smallText, { maxKeys: 3 }),
);

/** Values a field's schema is likely to accept, so requests reach the handlers too. */
function plausibleValue(field: string): fc.Arbitrary<unknown> {
  switch (field) {
    case "email":
      return fc.oneof({ weight: 3, arbitrary: fc.emailAddress() }, { weight: 1, arbitrary: emailText });
    case "password":
    case "current_password":
      return fc.oneof(
        { weight: 2, arbitrary: fc.constant("correct horse battery") },
        { weight: 2, arbitrary: fc.string({ minLength: 8, maxLength: 24 }) },
        { weight: 1, arbitrary: smallText },
      );
    case "status":
      return fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom("draft", "published", "archived") },
        { weight: 1, arbitrary: fc.constantFrom("PUBLISHED", "deleted", "", " draft") },
      );
    case "role":
      return fc.constantFrom("user", "admin", "guest", "root");
    case "is_active":
      return fc.constantFrom(true, false, "true", 0);
    default:
      return fc.oneof(
        { weight: 4, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }) },
        { weight: 1, arbitrary: anyText },
      );
  }
}

const OMIT = Symbol("omit");

function shapedBody(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const values = fc.tuple(
    ...fields.map((field) =>
      fc.oneof(
        { weight: 10, arbitrary: plausibleValue(field) },
        { weight: 1, arbitrary: looseValue },
        { weight: 1, arbitrary: fc.constant(OMIT) },
      ),
    ),
  );
  const foreign = fc.option(fc.tuple(fc.constantFrom(...FOREIGN_FIELDS), looseValue), { freq: 5, nil: undefined });
  return fc.tuple(values, foreign).map(([picked, extra]) => {
    const body: Record<string, unknown> = {};
    fields.forEach((field, index) => {
      const value = picked[index];
      if (value !== OMIT) body[field] = value;
    });
    // defineProperty, so `__proto__` becomes an own key that JSON.stringify writes out.
    if (extra) Object.defineProperty(body, extra[0], { value: extra[1], enumerable: true, writable: true });
    return body;
  });
}

const MALFORMED_JSON = [
  "{",
  '{"title":',
  "[1,2",
  "{'title': 'single quotes'}",
  '{"title": "a" "content": "b"}',
  '{"title": "a",}',
  "{}garbage",
  "NaN",
  "undefined",
  '"just a string"',
  "null",
  "1e999",
  '{"__proto__": {"role": "admin"}}',
  '{"constructor": {"prototype": {"role": "admin"}}}',
  '{"title": "\\ud800"}',
  '{"title": "a\\u0000b", "content": "c"}',
  '{"email": "a@b.c", "email": "b@b.c", "name": "n", "password": "p"}',
  "[".repeat(20_000),
  `${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`,
  "\ufeff{}",
  " \t\n{}\n",
];

type BodyChoice =
  | { kind: "none" }
  | { kind: "text"; text: string }
  | { kind: "bytes"; bytes: Uint8Array }
  | { kind: "json"; value: unknown };

function bodyChoice(path: string): fc.Arbitrary<BodyChoice> {
  const fields = BODY_FIELDS[path] ?? ["title", "email", "name"];
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant<BodyChoice>({ kind: "none" }) },
    { weight: 12, arbitrary: shapedBody(fields).map((value): BodyChoice => ({ kind: "json", value })) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value): BodyChoice => ({ kind: "json", value })) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(fc.constantFrom(...MALFORMED_JSON), smallText, fc.string({ maxLength: 60 }))
        .map((text): BodyChoice => ({ kind: "text", text })),
    },
    {
      weight: 1,
      arbitrary: fc
        .oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.constant(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])),
          fc.constant(new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])),
        )
        .map((bytes): BodyChoice => ({ kind: "bytes", bytes })),
    },
    {
      // Past the 64 KiB default and the 640 KiB post limit.
      weight: 1,
      arbitrary: fc
        .integer({ min: 60_000, max: 700_000 })
        .map((length): BodyChoice => ({ kind: "json", value: { title: "t", content: "x".repeat(length) } })),
    },
  );
}

/** A placeholder for an id that exists at run time (users and posts made along the way). */
type Pool = "post" | "user" | "any";
type KnownId = { known: number; pool: Pool };
type Piece = string | KnownId;

const isoDate = fc
  .date({ min: new Date(0), max: new Date(4_000_000_000_000), noInvalidDate: true })
  .map((date) => date.toISOString());
const idLike = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
const encodeUtf8 = (text: string) => new TextEncoder().encode(text);
const cursorText = fc.oneof(
  fc.tuple(isoDate, idLike).map((pair) => toBase64Url(encodeUtf8(JSON.stringify(pair)))),
  fc.jsonValue({ maxDepth: 2 }).map((value) => toBase64Url(encodeUtf8(JSON.stringify(value) ?? "null"))),
  smallText.map((text) => toBase64Url(encodeUtf8(text))),
  smallText,
  fc.constant("A".repeat(600)),
);

/** Search text built from FTS5's own syntax, words and hostile Unicode (`q`, `search`). */
const FTS_PIECES = ['"', "'", "*", "(", ")", ":", "^", "-", "+", "{", "}", ",", "NEAR", "NEAR(", "AND", "OR", "NOT"];
const searchText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.oneof(
          fc.constantFrom(
            ...FTS_PIECES,
            "title",
            "content",
            "title:",
            "content:",
            "rank",
            "posts_fts",
            "some",
            "a",
            " ",
          ),
          smallText,
        ),
        { maxLength: 12 },
      )
      .map((pieces) => pieces.join("")),
  },
  { weight: 1, arbitrary: anyText },
);

const queryValue: fc.Arbitrary<Piece> = fc.oneof(
  smallText,
  searchText,
  fc.constantFrom("draft", "published", "archived", "admin", "user", "guest", "true", "false"),
  fc.constantFrom("1", "20", "100", "101", "0", "-1", "1e1", "0x14", " 5", "007", "99999999999999999999"),
  fc.integer({ min: -5, max: 1_000 }).map(String),
  cursorText,
  fc.nat().map((known): KnownId => ({ known, pool: "any" })),
);
const queryKey = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom("status", "author_id", "cursor", "limit", "role", "is_active", "email", "q", "offset"),
  },
  { weight: 1, arbitrary: fc.constantFrom("x", "__proto__", "limit[]", "status[]", "", "LIMIT") },
  { weight: 1, arbitrary: smallText },
);
const queryArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant<[string, Piece, boolean][]>([]) },
  { weight: 3, arbitrary: fc.array(fc.tuple(queryKey, queryValue, fc.boolean()), { minLength: 1, maxLength: 4 }) },
);

const idPiece = (pool: Pool): fc.Arbitrary<Piece> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.nat().map((known): KnownId => ({ known, pool })) },
    { weight: 2, arbitrary: idLike },
    { weight: 2, arbitrary: smallText },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "..",
        ".",
        "%2e%2e",
        "..%2f..%2fetc%2fpasswd",
        "%00",
        "%",
        "%zz",
        "me",
        "a".repeat(129),
      ),
    },
  );

const UNKNOWN_PATHS = [
  "/",
  "/v1",
  "/v1/",
  "/v2/posts",
  "/v1/posts/x/y",
  "/v1/users/me/posts",
  "/health/",
  "/HEALTH",
  "/v1/POSTS",
  "/../../etc/passwd",
  "/%2e%2e/%2e%2e/etc/passwd",
  "/v1/posts/..%2f..%2f..%2fetc%2fpasswd",
  "/docs-assets/../wrangler.toml",
  "/.env",
  "/.dev.vars",
  "/wrangler.toml",
  "/src/app.ts",
  "/v1/auth",
  "/v1/admin",
  "//v1/posts",
  "/v1//posts",
  "/v1/posts;jsessionid=1",
  "/v1/posts%00",
];
const unknownPath = fc.oneof(
  fc.constantFrom(...UNKNOWN_PATHS),
  fc.array(smallText, { minLength: 1, maxLength: 4 }).map((segments) => `/${segments.map(safeEncode).join("/")}`),
  smallText.map((text) => `/v1/${safeEncode(text)}`),
);

/** encodeURIComponent, except that a lone surrogate becomes bytes that are not UTF-8. */
function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return [...text].map((char) => (char.isWellFormed() ? encodeURIComponent(char) : "%ED%A0%80")).join("");
  }
}

/**
 * Printable ASCII, tab and stray control characters. (Non-ASCII header values are not sent:
 * workerd re-encodes them as UTF-8 and prints a warning for each, so they test nothing more.)
 */
const headerChar = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constantFrom(0x09, 0x01, 0x1f, 0x7f) },
);
const headerValue = fc.string({ unit: headerChar.map((code) => String.fromCharCode(code)), maxLength: 60 });
const longHeader = fc.integer({ min: 1_000, max: 9_000 }).map((length) => "W".repeat(length));
const headerName = fc.oneof(
  fc.constantFrom(
    "Cookie",
    "X-Forwarded-For",
    "CF-Connecting-IP",
    "X-HTTP-Method-Override",
    "X-Original-URL",
    "Accept",
    "Accept-Encoding",
    "Range",
    "Content-Encoding",
    "Content-Length",
    "Expect",
  ),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/),
);
const etagValue = fc.oneof(
  fc.constantFrom("*", '"1-abc"', 'W/"1-abc"', '"1"', '"', "", '"1-abc", *', "W/*"),
  headerValue,
  longHeader,
);

type HeaderChoice = {
  contentType: string | undefined;
  ifMatch: string | undefined;
  ifNoneMatch: string | undefined;
  idempotencyKey: string | undefined;
  requestId: string | undefined;
  bookmark: string | undefined;
  origin: string | undefined;
  preflightMethod: string | undefined;
  extra: [string, string][];
};

/** Present now and then: each bad header alone already decides many responses. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>, weight = 1) =>
  fc.oneof({ weight: 14, arbitrary: fc.constant(undefined) }, { weight, arbitrary });

const headersArb: fc.Arbitrary<HeaderChoice> = fc.record({
  contentType: fc.oneof(
    {
      weight: 20,
      arbitrary: fc.constantFrom(
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.api+json",
        "application/merge-patch+json",
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "application/json;;;",
        "json",
        "",
        "application/json, text/plain",
        "application/xml",
      ),
    },
    { weight: 1, arbitrary: headerValue },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  ifMatch: sometimes(etagValue),
  ifNoneMatch: sometimes(etagValue),
  idempotencyKey: sometimes(
    fc.oneof(fc.stringMatching(/^[\x21-\x7e]{1,40}$/), headerValue, fc.constant("k".repeat(300))),
  ),
  requestId: sometimes(
    fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/),
      headerValue,
      fc.constant("x".repeat(129)),
      fc.constant("<script>"),
    ),
    3,
  ),
  bookmark: sometimes(
    fc.oneof(
      { weight: 3, arbitrary: fc.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/) },
      { weight: 1, arbitrary: headerValue },
      { weight: 1, arbitrary: longHeader },
    ),
  ),
  origin: sometimes(fc.constantFrom("http://localhost:3000", "https://evil.example", "null")),
  preflightMethod: sometimes(fc.constantFrom("POST", "DELETE", "PUT", "GET")),
  extra: fc.array(fc.tuple(headerName, fc.oneof(headerValue, longHeader)), { maxLength: 2 }),
});

type SessionKind = "user" | "admin" | "guest";
type AuthChoice =
  | { kind: "anonymous" }
  | { kind: "session"; who: SessionKind; tamper: "none" | "lowercase" | "spaces" | "append" | "truncate" | "twice" }
  | { kind: "forged"; index: number }
  | { kind: "raw"; header: string };

const authArb: fc.Arbitrary<AuthChoice> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<AuthChoice>({ kind: "anonymous" }) },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant("session" as const),
      who: fc.constantFrom<SessionKind>("user", "admin", "guest"),
      tamper: fc.oneof(
        { weight: 10, arbitrary: fc.constant("none" as const) },
        { weight: 1, arbitrary: fc.constantFrom("lowercase", "spaces", "append", "truncate", "twice") },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("forged" as const), index: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("raw" as const),
      header: fc.oneof(
        fc.constantFrom(
          "Bearer",
          "Bearer ",
          "bearer",
          "Basic dXNlcjpwYXNz",
          "Bearer null",
          "Bearer undefined",
          "Bearer a.b.c",
          "Bearer ....",
          "Token abc",
          `Bearer ${"a".repeat(5_000)}`,
        ),
        headerValue.map((value) => `Bearer ${value}`),
        headerValue,
      ),
    }),
  },
);

const OTHER_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "PURGE"];
const methodArb = (template: Template) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(template.method) },
    { weight: 1, arbitrary: fc.constantFrom(...OTHER_METHODS, "get", "post", "patch", "delete") },
  );

/** Literal parts of a template, and generated ids in its `:id` slots (URL-encoded unless `raw`). */
type PathPart = { literal: string } | { id: Piece; raw: boolean };

type FuzzRequest = {
  route: string;
  method: string;
  path: PathPart[];
  query: [string, Piece, boolean][];
  headers: HeaderChoice;
  auth: AuthChoice;
  body: BodyChoice;
};

/** Ids in a path are mostly ids of the right kind, so requests reach real rows. */
const poolOf = (path: string): Pool =>
  path.startsWith("/v1/posts") ? "post" : path.startsWith("/v1/users") ? "user" : "any";

const templatePath = (template: Template, idArb: fc.Arbitrary<Piece>, rawArb: fc.Arbitrary<boolean>) =>
  fc.array(fc.tuple(idArb, rawArb), { minLength: 2, maxLength: 2 }).map((ids) => {
    let next = 0;
    return template.path.split(/(:[A-Za-z_]+)/).map((part): PathPart => {
      if (!part.startsWith(":")) return { literal: part };
      const [id, raw] = ids[next % ids.length] ?? ["", false];
      next += 1;
      return { id, raw };
    });
  });

/** Anything goes: every part of the request may be hostile. */
const messyRequest = (template: Template) =>
  fc.record({
    route: fc.constant(templateKey(template)),
    method: methodArb(template),
    path: templatePath(template, idPiece(poolOf(template.path)), fc.boolean()),
    query: queryArb,
    headers: headersArb,
    auth: authArb,
    body: bodyChoice(template.path),
  });

/** Text every text field accepts: unicode, SQL-looking and traversal strings included. */
const validText = fc
  .oneof(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }),
    fc.constantFrom(...NASTY_STRINGS),
    fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
  )
  .filter((text) => text.length <= 100 && text.isWellFormed() && !text.includes("\u0000") && text.trim() !== "");
const validEmail = fc.stringMatching(/^[a-z0-9]{1,16}$/).map((local) => `fuzz-${local}@example.com`);
const validStatus = fc.constantFrom("draft", "published", "archived");

const CLEAN_BODIES: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  "/v1/auth/register": fc.record({
    email: validEmail,
    name: validText,
    password: fc.constant("correct horse battery"),
  }),
  "/v1/auth/login": fc.record({ email: validEmail, password: fc.constant("correct horse battery") }),
  "/v1/auth/refresh": fc.record({ refresh_token: validText }),
  "/v1/auth/logout": fc.record({ refresh_token: validText }),
  "/v1/users/me": fc.record({ name: validText }),
  "/v1/users/:id": fc.oneof(
    fc.record({ name: validText }),
    fc.record({ role: fc.constantFrom("user", "guest", "admin") }),
    fc.record({ is_active: fc.boolean() }),
  ),
  "/v1/posts": fc.record({ title: validText, content: validText, status: validStatus }),
  "/v1/posts/:id": fc.record({ title: validText, content: validText, status: validStatus }, { requiredKeys: [] }),
};

const CLEAN_HEADERS: HeaderChoice = {
  contentType: "application/json",
  ifMatch: undefined,
  ifNoneMatch: undefined,
  idempotencyKey: undefined,
  requestId: undefined,
  bookmark: undefined,
  origin: undefined,
  preflightMethod: undefined,
  extra: [],
};

/**
 * Well-formed apart from the values: a real token, a real id, a body of the route's own fields.
 * These reach the handlers and storage with unicode, SQL-looking and traversal strings.
 */
const cleanRequest = (template: Template) =>
  fc.record({
    route: fc.constant(templateKey(template)),
    method: fc.constant(template.method),
    path: templatePath(
      template,
      fc.nat().map((known): Piece => ({ known, pool: poolOf(template.path) })),
      fc.constant(false),
    ),
    query: fc.oneof(
      fc.constant<[string, Piece, boolean][]>([]),
      fc
        .tuple(fc.constantFrom("1", "2", "100"), fc.constantFrom("draft", "published", "archived"))
        .map(([limit, status]): [string, Piece, boolean][] => [
          ["limit", limit, true],
          ["status", status, true],
        ]),
    ),
    headers: fc.oneof(
      fc.constant(CLEAN_HEADERS),
      fc.constantFrom("*", '"1-x"').map((tag): HeaderChoice => ({ ...CLEAN_HEADERS, ifMatch: tag })),
      fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/).map((key): HeaderChoice => ({ ...CLEAN_HEADERS, idempotencyKey: key })),
    ),
    auth: fc.record({
      kind: fc.constant("session" as const),
      who: fc.constantFrom<SessionKind>("user", "user", "admin", "guest"),
      tamper: fc.constant("none" as const),
    }),
    body: (CLEAN_BODIES[template.path] ?? fc.constant({})).map((value): BodyChoice => ({ kind: "json", value })),
  });

const templateRequest = (template: Template) =>
  fc.oneof({ weight: 4, arbitrary: messyRequest(template) }, { weight: 1, arbitrary: cleanRequest(template) });

const unknownRequest = fc.record({
  route: fc.constant(UNKNOWN_ROUTE),
  method: fc.constantFrom(...OTHER_METHODS),
  path: unknownPath.map((path): PathPart[] => [{ literal: path }]),
  query: queryArb,
  headers: headersArb,
  auth: authArb,
  body: bodyChoice("/v1/posts"),
});

const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  ...TEMPLATES.map((template) => ({ weight: 1, arbitrary: templateRequest(template) })),
  { weight: 2, arbitrary: unknownRequest },
);

// ---------------------------------------------------------------------------------------------
// Runtime state: sessions (re-made when the fuzzer deletes, demotes or revokes them) and ids.

const sessions = new Map<SessionKind, Session>();
const knownIds: Record<"post" | "user", string[]> = { post: [], user: [] };
const forgedTokens: string[] = [];

async function makeSession(kind: SessionKind): Promise<Session> {
  const session =
    kind === "admin"
      ? await createAdmin()
      : kind === "guest"
        ? await withRole(await createUser({ name: "Fuzz Guest" }), "guest")
        : await createUser({ name: "Fuzz User" });
  sessions.set(kind, session);
  knownIds.user.push(session.id);
  return session;
}

function session(kind: SessionKind): Session {
  const found = sessions.get(kind);
  if (!found) throw new Error(`no ${kind} session`);
  return found;
}

/** A token that still works, or a fresh session if the fuzzer ended the old one. */
async function ensureSession(kind: SessionKind): Promise<void> {
  const response = await api("/v1/users/me", { token: session(kind).access_token });
  await response.arrayBuffer();
  if (response.status === 401) await makeSession(kind);
}

async function forgeTokens(userId: string): Promise<string[]> {
  const key = new TextEncoder().encode(TEST_JWT_SECRET);
  const wrongKey = new TextEncoder().encode("another-secret-that-is-long-enough-0123456789");
  const now = Math.floor(Date.now() / 1000);
  const sign = (
    claims: Record<string, unknown>,
    options: { alg?: string; typ?: string | null; key?: Uint8Array; iss?: string; aud?: string; exp?: number } = {},
  ) => {
    const header: { alg: string; typ?: string } = { alg: options.alg ?? "HS256" };
    if (options.typ !== null) header.typ = options.typ ?? "at+jwt";
    return new SignJWT(claims)
      .setProtectedHeader(header)
      .setIssuer(options.iss ?? "edge-posts-api")
      .setAudience(options.aud ?? "edge-posts-api")
      .setIssuedAt(now)
      .setExpirationTime(options.exp ?? now + 900)
      .setJti(crypto.randomUUID())
      .sign(options.key ?? key);
  };
  const encodePart = (value: unknown) => toBase64Url(new TextEncoder().encode(JSON.stringify(value)));
  const unsigned = `${encodePart({ alg: "none", typ: "at+jwt" })}.${encodePart({
    sub: userId,
    role: "admin",
    iss: "edge-posts-api",
    aud: "edge-posts-api",
    iat: now,
    exp: now + 900,
    jti: "x",
  })}.`;
  return [
    unsigned,
    await sign({ sub: userId, role: "admin" }, { key: wrongKey }),
    await sign({ sub: userId, role: "admin" }, { alg: "HS384" }),
    await sign({ sub: userId, role: "admin" }, { aud: "someone-else" }),
    await sign({ sub: userId, role: "admin" }, { iss: "someone-else" }),
    await sign({ sub: userId, role: "admin" }, { exp: now - 10 }),
    await sign({ sub: userId, role: "admin" }, { typ: null }),
    await sign({ sub: userId, role: "admin" }, { typ: "JWT" }),
    await sign({ sub: userId, role: "root" }),
    await sign({ sub: { id: userId }, role: "user" }),
    // Well signed, for accounts that do not exist: handlers must cope with a ghost caller.
    await sign({ sub: "ghost-user-that-does-not-exist", role: "user" }),
    await sign({ sub: "ghost-admin-that-does-not-exist", role: "admin" }),
    await sign({ sub: "ghost-guest-that-does-not-exist", role: "guest" }),
  ];
}

// ---------------------------------------------------------------------------------------------
// Sending and checking.

type Resolved = { method: string; path: string; headers: Headers; body: string | Uint8Array | undefined };

function resolvePiece(piece: Piece): string {
  if (typeof piece === "string") return piece;
  const ids = piece.pool === "any" ? [...knownIds.user, ...knownIds.post] : knownIds[piece.pool];
  // Half the time one of the newest (most likely still alive), else any, deleted ones included.
  const window = piece.known % 2 === 0 ? Math.min(ids.length, 6) : ids.length;
  return ids[ids.length - 1 - (Math.floor(piece.known / 2) % Math.max(1, window))] ?? "none";
}

function resolve(request: FuzzRequest): Resolved {
  const method = request.method.toUpperCase();
  let path = request.path
    .map((part) => {
      if ("literal" in part) return part.literal;
      const id = resolvePiece(part.id);
      return part.raw ? id : safeEncode(id);
    })
    .join("");
  if (request.query.length > 0) {
    const query = request.query
      .map(([key, value, encode]) => {
        const text = resolvePiece(value);
        return encode ? `${safeEncode(key)}=${safeEncode(text)}` : `${key}=${text}`;
      })
      .join("&");
    path = `${path}?${query}`;
  }

  const headers = new Headers();
  const choice = request.headers;
  if (choice.contentType !== undefined) headers.set("Content-Type", choice.contentType);
  if (choice.ifMatch !== undefined) headers.set("If-Match", choice.ifMatch);
  if (choice.ifNoneMatch !== undefined) headers.set("If-None-Match", choice.ifNoneMatch);
  if (choice.idempotencyKey !== undefined) headers.set("Idempotency-Key", choice.idempotencyKey);
  if (choice.requestId !== undefined) headers.set("X-Request-Id", choice.requestId);
  if (choice.bookmark !== undefined) headers.set("X-D1-Bookmark", choice.bookmark);
  if (choice.origin !== undefined) headers.set("Origin", choice.origin);
  if (choice.preflightMethod !== undefined) headers.set("Access-Control-Request-Method", choice.preflightMethod);
  for (const [name, value] of choice.extra) headers.set(name, value);

  const auth = request.auth;
  if (auth.kind === "session") {
    const token = session(auth.who).access_token;
    const value = {
      none: `Bearer ${token}`,
      lowercase: `bearer ${token}`,
      spaces: `Bearer    ${token}   `,
      append: `Bearer ${token}x`,
      truncate: `Bearer ${token.slice(0, -2)}`,
      twice: `Bearer ${token} Bearer ${token}`,
    }[auth.tamper];
    headers.set("Authorization", value);
  } else if (auth.kind === "forged" && forgedTokens.length > 0) {
    headers.set("Authorization", `Bearer ${forgedTokens[auth.index % forgedTokens.length]}`);
  } else if (auth.kind === "raw") {
    headers.set("Authorization", auth.header);
  }

  let body: string | Uint8Array | undefined;
  if (method !== "GET" && method !== "HEAD") {
    if (request.body.kind === "text") body = request.body.text;
    else if (request.body.kind === "bytes") body = request.body.bytes;
    else if (request.body.kind === "json") body = JSON.stringify(request.body.value) ?? "null";
  }
  return { method, path, headers, body };
}

const clip = (text: string, max = 160) => (text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text);

function describeRequest(resolved: Resolved): string {
  const headers = [...resolved.headers].map(([name, value]) => `${name}: ${clip(value, 80)}`).join(" | ");
  const body =
    resolved.body === undefined
      ? "(none)"
      : typeof resolved.body === "string"
        ? clip(JSON.stringify(resolved.body))
        : `bytes[${resolved.body.byteLength}]`;
  return `${resolved.method} ${clip(resolved.path, 300)}\n  headers: ${headers}\n  body: ${body}`;
}

function requestText(resolved: Resolved): string {
  const body =
    resolved.body === undefined
      ? ""
      : typeof resolved.body === "string"
        ? resolved.body
        : new TextDecoder().decode(resolved.body);
  return [resolved.method, resolved.path, ...[...resolved.headers].flat(), body].join("\n");
}

function leaks(text: string): string[] {
  return LEAK_NEEDLES.filter((needle) => text.includes(needle));
}

/** Checks one response against the contract's invariants; `context` names the request on failure. */
async function checkResponse(resolved: Resolved, response: Response, context: string): Promise<string> {
  const text = await response.text();
  const status = response.status;
  expect(status, `no 5xx\n${context}\n  got: ${clip(text, 400)}`).toBeLessThan(500);

  const requestId = response.headers.get("X-Request-Id");
  expect(requestId, `X-Request-Id on every response\n${context}`).toBeTruthy();
  const incoming = resolved.headers.get("X-Request-Id");
  if (incoming !== null && SANE_REQUEST_ID.test(incoming)) {
    expect(requestId, `a sane X-Request-Id is echoed\n${context}`).toBe(incoming);
  }

  expect(leaks(text), `secret, hash or stack in the body\n${context}\n  got: ${clip(text, 400)}`).toEqual([]);
  for (const [name, value] of response.headers) {
    expect(leaks(value), `secret, hash or stack in header ${name}\n${context}`).toEqual([]);
  }

  if (resolved.method === "HEAD") {
    expect(text, `HEAD has no body\n${context}`).toBe("");
    return text;
  }
  const success = (status >= 200 && status < 300) || status === 304;
  if (success) {
    if (text !== "" && /^application\/json/.test(response.headers.get("Content-Type") ?? "")) {
      expect(() => JSON.parse(text), `2xx JSON parses\n${context}`).not.toThrow();
    }
    return text;
  }

  expect(text, `an error has a body\n${context}`).not.toBe("");
  expect(response.headers.get("Content-Type"), `error is JSON\n${context}`).toMatch(/^application\/json/);
  let parsed: unknown;
  expect(
    () => {
      parsed = JSON.parse(text);
    },
    `error body parses\n${context}\n  got: ${clip(text)}`,
  ).not.toThrow();
  const envelope = `error envelope\n${context}\n  got: ${clip(text, 400)}`;
  expect(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), envelope).toBe(true);
  // The surface is decided on the path as the Worker sees it (`..` segments resolved).
  const { pathname } = new URL(`https://fuzz.test${resolved.path}`);
  if (pathname === "/api" || pathname.startsWith("/api/")) {
    checkConduitError(parsed, response, envelope);
    return text;
  }
  const body = parsed as Record<string, unknown>;
  expect(
    Object.keys(body).filter((key) => !ENVELOPE_KEYS.has(key)),
    envelope,
  ).toEqual([]);
  expect(typeof body.error === "string" && body.error.length > 0, envelope).toBe(true);
  expect(body.type, envelope).toBe(ERROR_TYPE_BY_STATUS[status] ?? `(no error type for status ${status})`);
  const details = body.details;
  expect(typeof details === "object" && details !== null && !Array.isArray(details), envelope).toBe(true);
  expect(body.request_id, envelope).toBe(requestId);
  if (status === 401) expect(response.headers.get("WWW-Authenticate"), envelope).toMatch(/^Bearer/);
  if (status === 405) expect(response.headers.get("Allow"), envelope).toBeTruthy();
  if (status === 429) expect(response.headers.get("Retry-After"), envelope).toMatch(/^\d+$/);
  return text;
}

/** The RealWorld surface's shape (API.md §9): `{errors: {body: [...]}}` and nothing else. */
function checkConduitError(parsed: unknown, response: Response, envelope: string): void {
  expect(parsed, envelope).toEqual({ errors: { body: expect.any(Array) } });
  const messages = (parsed as { errors: { body: unknown[] } }).errors.body;
  expect(messages.length, envelope).toBeGreaterThan(0);
  for (const message of messages) expect(typeof message === "string" && message.length > 0, envelope).toBe(true);
  expect([401, 403, 404, 405, 413, 415, 422, 429], envelope).toContain(response.status);
  if (response.status === 401) expect(response.headers.get("WWW-Authenticate"), envelope).toMatch(/^Token/);
  if (response.status === 405) expect(response.headers.get("Allow"), envelope).toBeTruthy();
  if (response.status === 429) expect(response.headers.get("Retry-After"), envelope).toMatch(/^\d+$/);
}

// ---------------------------------------------------------------------------------------------
// Round-trip arbitraries: exactly what the schemas accept (see `text()` in src/schemas/common.ts).

const accepted = (min: number, max: number) => (value: string) =>
  value.length >= min &&
  value.length <= max &&
  value.isWellFormed() &&
  !value.includes("\u0000") &&
  value.trim().length > 0;

function storedText(max: number): fc.Arbitrary<string> {
  const pieces = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 60 }) },
    { weight: 3, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme-composite", minLength: 1, maxLength: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: codeUnit, minLength: 1, maxLength: 40 }) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 30 }).map((text) => `  ${text}\r\n\t `) },
  );
  const joined = fc.array(pieces, { minLength: 1, maxLength: 4 }).map((parts) => parts.join(""));
  const long = fc
    .tuple(fc.constantFrom("😀", "a", "é", "\u202e", "e\u0301", "👩‍👩‍👧‍👦"), fc.integer({ min: 1, max: max }))
    .map(([unit, count]) => unit.repeat(Math.max(1, Math.floor(Math.min(count, max) / unit.length))));
  return fc
    .oneof({ weight: 8, arbitrary: joined }, { weight: 1, arbitrary: long })
    .map((text) => (text.length > max ? text.slice(0, max) : text))
    .filter(accepted(1, max));
}

type PostJson = {
  id: string;
  title: string;
  content: string;
  status: string;
  author: { id: string; name: string };
};

// ---------------------------------------------------------------------------------------------

describe(`fuzzing every route (seed ${SEED})`, () => {
  beforeAll(async () => {
    expect(env.JWT_SECRET).toBe(TEST_JWT_SECRET);
    const user = await makeSession("user");
    const admin = await makeSession("admin");
    await makeSession("guest");
    for (const [token, status] of [
      [user.access_token, "draft"],
      [user.access_token, "published"],
      [admin.access_token, "archived"],
      [admin.access_token, "published"],
    ] as const) {
      knownIds.post.push((await createPost(token, { status })).id);
    }
    forgedTokens.push(...(await forgeTokens(user.id)));
  });

  it(
    `keeps the contract for ${FUZZ_RUNS} random requests over every route (seed ${SEED})`,
    async () => {
      const routeKeys = [...TEMPLATES.map(templateKey), UNKNOWN_ROUTE];
      for (const path of ["/health", "/health/ready", "/openapi.json", "/docs", "/v1/posts/:id"]) {
        expect(routeKeys).toContain(`GET ${path}`);
      }
      const hits = new Map<string, number>(routeKeys.map((key) => [key, 0]));
      const statuses = new Map<number, number>();
      let sent = 0;

      await fc.assert(
        fc.asyncProperty(fuzzRequest, async (request) => {
          const resolved = resolve(request);
          // Echoes of what the caller sent are not leaks; such inputs are (astronomically) rare.
          fc.pre(leaks(requestText(resolved)).length === 0);
          const context = describeRequest(resolved);
          sent += 1;
          hits.set(request.route, (hits.get(request.route) ?? 0) + 1);
          const response = await api(resolved.path, {
            method: resolved.method,
            headers: resolved.headers,
            body: resolved.body,
          });
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          const text = await checkResponse(resolved, response, context);

          if (response.status === 201) {
            // A new post or account: later requests aim at it too.
            const created = JSON.parse(text) as { id?: unknown; user?: { id?: unknown } };
            if (typeof created.user?.id === "string") knownIds.user.push(created.user.id);
            else if (typeof created.id === "string") knownIds.post.push(created.id);
          }
          if (request.auth.kind === "session" && request.auth.tamper === "none" && response.status === 401) {
            await ensureSession(request.auth.who);
          }
        }),
        { seed: SEED, numRuns: FUZZ_RUNS, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS, markInterruptAsFailure: true },
      );

      expect(sent).toBeGreaterThanOrEqual(MIN_FUZZED_REQUESTS);
      for (const [route, count] of hits) {
        expect(count, `requests to ${route}`).toBeGreaterThanOrEqual(MIN_HITS_PER_ROUTE);
      }
      // The fuzzer must get past validation too, not only bounce off it.
      for (const status of [200, 201, 204, 400, 401, 403, 404, 405, 413, 415]) {
        expect(statuses.get(status) ?? 0, `responses with status ${status}`).toBeGreaterThan(0);
      }
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `search text is never query syntax: any q and any search answer 200 or a validation error (seed ${SEED})`,
    async () => {
      const viewers = [undefined, (await makeSession("user")).access_token, (await makeSession("admin")).access_token];
      await fc.assert(
        fc.asyncProperty(searchText, fc.constantFrom(0, 1, 2), fc.boolean(), async (q, viewer, onApi) => {
          const path = onApi ? `/api/articles?search=${safeEncode(q)}` : `/v1/posts/search?q=${safeEncode(q)}&limit=5`;
          const response = await api(path, { token: viewers[viewer] });
          const text = await response.text();
          const context = `GET ${path} as ${["anonymous", "user", "admin"][viewer]}: ${clip(text, 300)}`;
          expect([200, onApi ? 422 : 400], context).toContain(response.status);
          if (response.status !== 200 || onApi) return;
          for (const hit of (JSON.parse(text) as { data: { snippet: string }[] }).data) {
            // Only balanced <mark> markup; everything else escaped.
            expect(hit.snippet, context).toMatch(/^[^<>]*(<mark>[^<>]*<\/mark>[^<>]*)*$/);
          }
        }),
        { seed: SEED, numRuns: 300, interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS, markInterruptAsFailure: true },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    `reads back post titles, contents and user names byte-identically (seed ${SEED})`,
    async () => {
      const author = await createUser({ name: "Round Trip" });
      const token = author.access_token;
      const readPost = async (id: string, as: string | undefined) => {
        const response = await api(`/v1/posts/${id}`, { token: as });
        expect(response.status).toBe(200);
        return json<PostJson>(response);
      };

      await fc.assert(
        fc.asyncProperty(
          storedText(200),
          storedText(100_000),
          storedText(200),
          storedText(100),
          fc.constantFrom("draft", "published", "archived"),
          async (title, content, newTitle, name, status) => {
            const created = await api("/v1/posts", { method: "POST", token, body: { title, content, status } });
            expect(created.status).toBe(201);
            const post = await json<PostJson>(created);
            expect(post.title).toBe(title);
            expect(post.content).toBe(content);

            // Anonymous reads go through the KV cache (MISS, then maybe HIT) for published posts.
            const readers = status === "published" ? [token, undefined, undefined] : [token];
            for (const reader of readers) {
              const read = await readPost(post.id, reader);
              expect(read.title).toBe(title);
              expect(read.content).toBe(content);
            }
            const listed = await api(`/v1/users/${author.id}/posts?limit=5`, { token });
            const page = await json<{ data: PostJson[] }>(listed);
            const inList = page.data.find((item) => item.id === post.id);
            expect(inList?.title).toBe(title);
            expect(inList?.content).toBe(content);

            const patched = await api(`/v1/posts/${post.id}`, { method: "PATCH", token, body: { title: newTitle } });
            expect(patched.status).toBe(200);
            expect((await json<PostJson>(patched)).title).toBe(newTitle);
            for (const reader of readers) expect((await readPost(post.id, reader)).title).toBe(newTitle);

            const renamed = await api("/v1/users/me", { method: "PATCH", token, body: { name } });
            expect(renamed.status).toBe(200);
            expect((await json<{ name: string }>(renamed)).name).toBe(name);
            const me = await api("/v1/users/me", { token });
            expect((await json<{ name: string }>(me)).name).toBe(name);
            const profile = await api(`/v1/users/${author.id}`);
            expect((await json<{ name: string }>(profile)).name).toBe(name);
            for (const reader of readers) expect((await readPost(post.id, reader)).author.name).toBe(name);
          },
        ),
        {
          seed: SEED,
          numRuns: ROUND_TRIP_RUNS,
          interruptAfterTimeLimit: SHRINK_TIME_LIMIT_MS,
          markInterruptAsFailure: true,
        },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
