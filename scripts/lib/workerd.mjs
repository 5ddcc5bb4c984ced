// Shared by scripts/size.mjs and scripts/startup-profile.mjs: wrangler's own Miniflare (so the
// same workerd that `wrangler check startup` runs), the modules of a `wrangler deploy --outfile`
// bundle, and the CPU time a workerd process has used.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
const wranglerEntry = require.resolve("wrangler");

/** `wrangler`'s exports and its own copy of `miniflare`. */
export async function loadWrangler() {
  const wrangler = await import(pathToFileURL(wranglerEntry).href);
  const miniflare = await import(pathToFileURL(createRequire(wranglerEntry).resolve("miniflare")).href);
  return { wrangler, miniflare };
}

/** A `wrangler deploy --outfile` bundle (multipart form data): its metadata and JS modules. */
export async function readWorkerBundle(path) {
  const bytes = readFileSync(path);
  const boundary = bytes.subarray(2, bytes.indexOf(10)).toString().trim();
  const form = await new Response(bytes, {
    headers: { "Content-Type": `multipart/form-data; boundary=${boundary}` },
  }).formData();
  const metadata = JSON.parse(String(form.get("metadata")));
  const modules = [];
  for (const [name, entry] of form) {
    if (entry instanceof Blob && entry.type.includes("javascript"))
      modules.push({ name, contents: await entry.text() });
  }
  return { metadata, modules };
}

/** workerd processes started by this process (Miniflare's runtime). */
export function childWorkerdPids() {
  const pids = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (name === "workerd" && parent === process.pid) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Nanoseconds on CPU of every thread of these processes (Linux schedstat), or undefined. */
export function cpuTimeNs(pids) {
  let total = 0;
  for (const pid of pids) {
    for (const thread of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${thread}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // thread ended meanwhile
      }
    }
  }
  return Number.isFinite(total) ? total : undefined;
}
