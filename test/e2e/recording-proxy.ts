// A recording HTTP proxy in front of the e2e tests' wrangler dev: every request any e2e client
// sends (the test files' fetch calls, the typed hono/client, `npm run smoke` in a child process,
// the headless browser) goes through it, and each answered exchange is appended to a JSON-lines
// file before the answer is passed on. test/e2e/conformance-setup.ts validates what each test
// file caused against the served /openapi.json (test/e2e/conformance.ts).
import { appendFileSync, readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from "node:http";
import type { AddressInfo } from "node:net";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

/** One answered request, as the conformance check reads it. */
export type Exchange = {
  seq: number;
  method: string;
  /** Path and query, as sent. */
  url: string;
  status: number;
  /** Lower-cased names; repeated headers joined with ", " (set-cookie with "\n"). */
  headers: Record<string, string>;
  /** The decoded body as text ("" when there is none). */
  body: string;
};

// RFC 9110 §7.6.1: per connection, never forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "te",
  "trailer",
]);

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

function decoded(body: Buffer, encoding: string | undefined): string {
  // A 204 may still name an encoding (nothing was encoded).
  if (body.length === 0) return "";
  switch ((encoding ?? "").trim().toLowerCase()) {
    case "gzip":
    case "x-gzip":
      return gunzipSync(body).toString("utf8");
    case "br":
      return brotliDecompressSync(body).toString("utf8");
    case "deflate":
      return inflateSync(body).toString("utf8");
    default:
      return body.toString("utf8");
  }
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(name === "set-cookie" ? "\n" : ", ") : value;
  }
  return flat;
}

/**
 * Listens on 127.0.0.1:`port` and forwards to 127.0.0.1:`upstreamPort`, appending one JSON line
 * per exchange to `trafficPath`. The line is written before the client gets its answer, so a test
 * file's afterAll sees every exchange it caused.
 */
export function startRecordingProxy(port: number, upstreamPort: number, trafficPath: string): Promise<Server> {
  let seq = 0;
  const server = createHttpServer((incoming, outgoing) => {
    const requestChunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => requestChunks.push(chunk));
    incoming.on("end", () => {
      const upstream = httpRequest(
        {
          host: "127.0.0.1",
          port: upstreamPort,
          method: incoming.method,
          path: incoming.url,
          headers: forwardable(incoming.headers),
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (chunk: Buffer) => chunks.push(chunk));
          answer.on("end", () => {
            const raw = Buffer.concat(chunks);
            const status = answer.statusCode ?? 0;
            let body: string;
            try {
              body = decoded(raw, answer.headers["content-encoding"]);
            } catch (error) {
              body = `<undecodable ${answer.headers["content-encoding"]} body: ${String(error)}>`;
            }
            seq += 1;
            const exchange: Exchange = {
              seq,
              method: incoming.method ?? "GET",
              url: incoming.url ?? "/",
              status,
              headers: flatHeaders(answer.headers),
              body,
            };
            appendFileSync(trafficPath, `${JSON.stringify(exchange)}\n`);
            const headers = forwardable(answer.headers);
            // The body is passed on whole, so its length is known; a HEAD answer keeps the
            // length the GET would have.
            if (incoming.method !== "HEAD") {
              delete headers["content-length"];
              if (raw.length > 0 || (status !== 204 && status !== 304)) headers["content-length"] = String(raw.length);
            }
            outgoing.writeHead(status, answer.statusMessage, headers);
            outgoing.end(raw);
          });
          answer.on("error", (error) => outgoing.destroy(error));
        },
      );
      upstream.on("error", (error) => {
        outgoing.writeHead(502, { "content-type": "text/plain" });
        outgoing.end(`recording proxy: upstream failed: ${String(error)}`);
      });
      upstream.end(Buffer.concat(requestChunks));
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address() as AddressInfo;
      if (address.port !== port) reject(new Error(`proxy listens on ${address.port}, not ${port}`));
      else resolve(server);
    });
  });
}

/** The exchanges recorded so far, in order. */
export function recorded(trafficPath: string): Exchange[] {
  return readFileSync(trafficPath, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Exchange);
}
