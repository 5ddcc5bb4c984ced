// Runs around every e2e test file (vitest setupFiles): every exchange the file caused through the
// recording proxy (global-setup.ts) must be one the served /openapi.json allows, errors included.
// A violation fails the file's afterAll with one line per non-conforming response.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, inject } from "vitest";
import { Conformance, type Fallbacks, type OpenApi, report } from "./conformance";
import type { Exchange } from "./recording-proxy";

const trafficPath = inject("trafficPath");

/** This API's answers to a path or a method the document does not have (src/openapi/document.ts). */
const FALLBACKS: Fallbacks = {
  notFound: (path) => `/components/responses/${path.startsWith("/api/") ? "Conduit404" : "NotFoundError"}`,
  methodNotAllowed: (path) =>
    `/components/responses/${path.startsWith("/api/") ? "Conduit405" : "MethodNotAllowedError"}`,
};
const directUrl = inject("directUrl");

function recorded(): Exchange[] {
  return readFileSync(trafficPath, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Exchange);
}

let before = 0;

beforeAll(() => {
  before = recorded().length;
});

afterAll(async () => {
  const exchanges = recorded().slice(before);
  // Every e2e file talks to the server: nothing recorded means a client went around the proxy.
  if (exchanges.length === 0) throw new Error("no exchange was recorded: does every client use inject('baseUrl')?");
  // Straight from wrangler dev, so fetching the document is not itself part of the traffic.
  const served = await fetch(`${directUrl}/openapi.json`);
  if (served.status !== 200) throw new Error(`GET /openapi.json answered ${served.status}`);
  const conformance = new Conformance((await served.json()) as OpenApi, FALLBACKS);
  const violations = report(
    exchanges,
    exchanges.map((exchange) => conformance.check(exchange)),
  );
  if (violations.length > 0) {
    throw new Error(
      `${violations.length} of ${exchanges.length} responses are not allowed by /openapi.json:\n${violations.join("\n")}`,
    );
  }
});
