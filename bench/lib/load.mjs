// Load generation with autocannon: a warm-up pass (discarded), then the measured pass, at a fixed
// number of keep-alive connections. Every response's status and X-Cache header are counted, so
// each result proves what it measured (e.g. 100 % HIT for a cached scenario, 0 % for uncached).
import autocannon from "autocannon";

function runOnce(options) {
  return new Promise((resolvePromise, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolvePromise(result)));
  });
}

/**
 * Runs one scenario against `baseUrl`.
 *   path | nextPath(): the request path, fixed or chosen per request (e.g. distinct ids)
 *   method, headers (object, or a function for per-request headers), body
 * Returns rps (completed requests / elapsed seconds), p50/p99 latency (ms), errors (non-2xx
 * answers + socket errors/timeouts) and the X-Cache and status counts of the measured pass.
 */
export async function measure({
  baseUrl,
  method = "GET",
  path,
  nextPath,
  headers,
  body,
  connections,
  warmupSec,
  durationSec,
}) {
  const url = new URL(baseUrl);
  const counts = { status: {}, xCache: {} };
  const jsonHeaders = body ? { "content-type": "application/json" } : {};
  const dynamicHeaders = typeof headers === "function";
  const request = {
    method,
    path: path ?? "/",
    body,
    headers: { ...jsonHeaders, ...(dynamicHeaders ? {} : headers) },
    onResponse(status, _body, _context, responseHeaders) {
      counts.status[status] = (counts.status[status] ?? 0) + 1;
      const cache = responseHeaders?.["x-cache"] ?? responseHeaders?.["X-Cache"] ?? "none";
      counts.xCache[cache] = (counts.xCache[cache] ?? 0) + 1;
    },
  };
  // Only scenarios that vary per request pay autocannon's per-request rebuild.
  if (nextPath || dynamicHeaders) {
    request.setupRequest = (req) => {
      const next = { ...req };
      if (nextPath) next.path = nextPath();
      if (dynamicHeaders) next.headers = { ...jsonHeaders, ...headers() };
      return next;
    };
  }
  const base = {
    url: `${url.protocol}//${url.host}`,
    connections,
    pipelining: 1,
    timeout: 10,
    requests: [request],
  };
  if (warmupSec > 0) await runOnce({ ...base, duration: warmupSec });
  counts.status = {};
  counts.xCache = {};
  const result = await runOnce({ ...base, duration: durationSec });
  const requests = result.requests.total;
  return {
    rps: requests / result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    errors: result.non2xx + result.errors,
    requests,
    duration_s: result.duration,
    status: counts.status,
    x_cache: counts.xCache,
  };
}
