// Runs around every e2e test file (vitest setupFiles): every exchange the file caused through the
// recording proxy (global-setup.ts) must be one the served /openapi.json allows, errors included.
// A violation fails the file's afterAll with one line per non-conforming response.
import { afterAll, beforeAll, inject } from "vitest";
import { API_FALLBACKS, Conformance, type OpenApi, report } from "./conformance";
import { recorded } from "./recording-proxy";

const trafficPath = inject("trafficPath");

const directUrl = inject("directUrl");

let before = 0;

beforeAll(() => {
  before = recorded(trafficPath).length;
});

afterAll(async () => {
  const exchanges = recorded(trafficPath).slice(before);
  // Every e2e file talks to the server: nothing recorded means a client went around the proxy.
  if (exchanges.length === 0) throw new Error("no exchange was recorded: does every client use inject('baseUrl')?");
  // Straight from wrangler dev, so fetching the document is not itself part of the traffic.
  const served = await fetch(`${directUrl}/openapi.json`);
  if (served.status !== 200) throw new Error(`GET /openapi.json answered ${served.status}`);
  const conformance = new Conformance((await served.json()) as OpenApi, API_FALLBACKS);
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
