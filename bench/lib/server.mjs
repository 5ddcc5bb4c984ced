// The bench server: one Miniflare instance (one workerd process) running the Worker bundle that
// `wrangler deploy --dry-run` produced, with the bindings wrangler itself derives from the
// (temporary) wrangler.toml. Runs as a child of run.mjs in its own process group, so the load
// generator and this process do not share an event loop, and run.mjs can kill the whole group.
//
// IPC protocol (process.send): parent -> { id, type: "d1batch", statements } | { id, type: "kvput",
// key, value }; child -> { type: "ready", url } | { id, ok, result?, error? }.
// If the parent goes away (IPC disconnect), the server disposes Miniflare and exits.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const options = JSON.parse(process.argv[2]);
const require = createRequire(import.meta.url);
// Use wrangler's own Miniflare (and so its workerd), not whatever another package hoisted.
const wranglerEntry = require.resolve("wrangler");
const { unstable_getMiniflareWorkerOptions } = await import(pathToFileURL(wranglerEntry).href);
const miniflarePath = createRequire(wranglerEntry).resolve("miniflare");
const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(pathToFileURL(miniflarePath).href);

const { workerOptions } = unstable_getMiniflareWorkerOptions(options.configPath);
// `modulesRules`/`rootPath` describe the unbundled source; we hand Miniflare the finished bundle.
const { modulesRules: _rules, rootPath: _root, assets, ...bindingOptions } = workerOptions;
// Default ("direct"): the client connects to a socket of the user Worker itself, skipping
// Miniflare's entry worker and its JavaScript re-implementation of the static-assets router
// (which alone more than halved /health throughput). The Worker has no ASSETS binding, and no
// benchmarked path is a static file. "full": entry worker + assets router + Worker, i.e. the
// user-worker half of what `wrangler dev` runs (wrangler dev adds a ProxyWorker in front).
const direct = options.mode !== "full";

let logLines = 0;
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: "127.0.0.1",
    port: options.port ?? 0,
    log: new Log(LogLevel.WARN),
    logRequests: false,
    // A fixed Request.cf: no lookup to workers.cloudflare.com (all traffic stays on 127.0.0.1).
    cf: { colo: "LCL", country: "XX" },
    resourcePersistencePath: options.persistPath,
    resourceTmpPath: options.tmpPath,
    // The Worker writes one JSON line per request. workerd still formats and writes it; we count
    // it and drop it here instead of printing (wrangler dev would print it to the terminal).
    handleStructuredLogs: () => {
      logLines++;
    },
    workers: [
      {
        ...bindingOptions,
        name: options.name,
        modules: true,
        scriptPath: options.scriptPath,
        modulesRoot: options.modulesRoot,
        bindings: { ...bindingOptions.bindings, JWT_SECRET: options.jwtSecret },
        ...(direct ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : { assets }),
      },
    ],
  }),
);

let disposing = false;
async function shutdown(code) {
  if (disposing) return;
  disposing = true;
  try {
    await mf.dispose();
  } finally {
    process.exit(code);
  }
}
process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));
process.on("disconnect", () => shutdown(0));

try {
  const entryUrl = await mf.ready;
  const url = direct ? await mf.unsafeGetDirectURL(options.name) : entryUrl;
  const db = await mf.getD1Database("DB");
  const kv = await mf.getKVNamespace("KV");
  process.on("message", async (message) => {
    const reply = (payload) => process.send?.({ id: message.id, ...payload });
    try {
      switch (message.type) {
        case "d1batch": {
          const results = await db.batch(message.statements.map((sql) => db.prepare(sql)));
          reply({ ok: true, result: results.length });
          break;
        }
        case "d1all": {
          const { results } = await db.prepare(message.sql).all();
          reply({ ok: true, result: results });
          break;
        }
        case "kvput":
          await kv.put(message.key, message.value, message.options);
          reply({ ok: true });
          break;
        case "stats":
          reply({ ok: true, result: { logLines } });
          break;
        default:
          reply({ ok: false, error: `unknown message type ${message.type}` });
      }
    } catch (error) {
      reply({ ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  });
  process.send?.({ type: "ready", url: String(url) });
} catch (error) {
  process.stderr.write(`bench server failed to start: ${error instanceof Error ? error.stack : error}\n`);
  await shutdown(1);
}
