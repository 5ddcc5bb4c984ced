// `npm run size:profile`: where the Worker's startup CPU goes, module by module.
//
// Builds the Worker unminified (`wrangler deploy --dry-run --minify=false`, same esbuild settings
// otherwise; esbuild starts each input file's code with a `// path` comment) and reports two views:
//
// 1. Self time in workerd (the profile behind `wrangler check startup`, made readable): fresh
//    isolates started the way `wrangler check startup` does (an entry module that `import()`s the
//    bundle once), the V8 sampling profiler at a finer interval, several runs. Each sample's time
//    goes to:
//    - a sample inside a function → the file that defines it, grouped by package (hono,
//      drizzle-orm, zod, jose, …) or by our own file under src/;
//    - a sample in module scope → the line being run. V8 records no lines for a script's top
//      level, so the profiling copy wraps the whole bundle in one eagerly compiled function (same
//      code, same order, same line numbers) whose line ticks say which file's module scope ran;
//    - builtins (defineProperty, Map, …) → the nearest caller in the bundle;
//    - `(program)` and samples in the entry's `import()` before the bundle runs → parse/compile;
//      `(garbage collector)` → GC; `(idle)` is not CPU.
//    Self time is where the CPU is spent: building a zod schema in src/schemas/posts.ts counts as
//    zod, not as that file.
// 2. Evaluation time per file, inclusive (who causes it): the same bundle with a timestamp before
//    each file's code, imported in fresh Node processes (workerd freezes clocks while code runs;
//    Node runs the same V8 engine, an older version). A file's time includes everything its
//    module scope calls: src/schemas/posts.ts is charged for the zod schemas it builds. The first
//    file to call a library function also pays for compiling it (V8 compiles functions on first
//    call); deferring that file moves this part to the next caller instead of saving it.
//
// The minified bundle `npm run size` measures does the same work with less text to parse: use
// these views for shares, `npm run size` for totals.
//
// Options: --runs N workerd isolates (default 12), --node-runs N (default 30), --config path
// (default wrangler.toml), --json path (default bench/startup-profile.json; none to skip), --top N.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { toJson } from "../bench/lib/json.mjs";
import { loadWrangler } from "./lib/workerd.mjs";

const ROOT = resolve(import.meta.dirname, "..");
const SAMPLING_INTERVAL_US = 100;

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "12" },
    "node-runs": { type: "string", default: "30" },
    config: { type: "string", default: "wrangler.toml" },
    json: { type: "string", default: "bench/startup-profile.json" },
    top: { type: "string", default: "25" },
  },
});
const runs = Number(values.runs);
const nodeRuns = Number(values["node-runs"]);
const configPath = resolve(ROOT, values.config);

const {
  wrangler: { unstable_getMiniflareWorkerOptions },
  miniflare: { Miniflare, convertV4MiniflareOptions },
} = await loadWrangler();

// --- profiling ------------------------------------------------------------------------------

/**
 * Wraps the bundle's module scope in one function that runs at once: V8 keeps line ticks for
 * functions but not for a script's top level. Lines keep their numbers (the opener shares the
 * first code line).
 */
function wrapTopLevel(code) {
  const exportMatch = /\nexport \{([^}]*)\};\s*(\/\/# sourceMappingURL=.*)?\s*$/.exec(code);
  if (!exportMatch) throw new Error("startup-profile: the bundle does not end in one `export { … };`");
  const exported = exportMatch[1]
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [local, name = local] = part.split(/\s+as\s+/);
      return { local, name };
    });
  const lines = code.slice(0, exportMatch.index).split("\n");
  const first = lines.findIndex((line) => line.trim() !== "" && !line.startsWith("import "));
  lines[first] = `const __module__ = (function __module_scope__() { ${lines[first]}`;
  const tail = [
    `return { ${exported.map(({ local, name }) => `${JSON.stringify(name)}: ${local}`).join(", ")} };`,
    "})();",
    ...exported.map(({ name }) =>
      name === "default"
        ? "export default __module__.default;"
        : `export const ${name} = __module__[${JSON.stringify(name)}];`,
    ),
  ];
  return `${lines.join("\n")}\n${tail.join("\n")}\n`;
}

/** One fresh isolate: start the profiler, import the bundle once, stop. */
async function profileStartup(code, workerOptions) {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      inspectorPort: 0,
      handleStructuredLogs: () => {},
      workers: [
        {
          name: "profiler",
          compatibilityDate: workerOptions.compatibilityDate,
          compatibilityFlags: workerOptions.compatibilityFlags,
          modulesRoot: "/",
          modules: [
            {
              type: "ESModule",
              path: "/profiler-entry.mjs",
              contents:
                'export default { async fetch() { await import("/worker/index.js"); return new Response("ok"); } };',
            },
            { type: "ESModule", path: "/worker/index.js", contents: code },
          ],
        },
      ],
    }),
  );
  try {
    await mf.ready;
    const inspector = await mf.getInspectorURL();
    const socket = new WebSocket(new URL("/core:user:profiler", inspector.href));
    await new Promise((resolveOpen, reject) => {
      socket.onopen = resolveOpen;
      socket.onerror = () => reject(new Error("startup-profile: inspector connection failed"));
    });
    const pending = new Map();
    socket.onmessage = (event) => {
      const message = JSON.parse(String(event.data));
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    };
    let nextId = 0;
    const send = (method, params) =>
      new Promise((resolveReply) => {
        const id = ++nextId;
        pending.set(id, resolveReply);
        socket.send(JSON.stringify({ id, method, params }));
      });
    await send("Profiler.enable");
    await send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
    await send("Profiler.start");
    const response = await mf.dispatchFetch("https://example.com/");
    const body = await response.text();
    if (body !== "ok") throw new Error(`startup-profile: the Worker failed to start:\n${body}`);
    const stopped = await send("Profiler.stop");
    socket.close();
    return stopped.result.profile;
  } finally {
    await mf.dispose();
  }
}

// --- attribution ----------------------------------------------------------------------------

const COMPILE = "(parse/compile: the entry's `import()` and (program))";
const GC = "(garbage collector)";
/** esbuild's helpers (keep_names `__name`, `__export`) and the module scope's entry, where V8
 * creates the closures of every hoisted function declaration. */
const HELPERS = "(bundle scope: esbuild helpers, hoisted declarations)";

/** esbuild's `// node_modules/hono/dist/hono.js` line before each input file's code. */
const BOUNDARY = /^\/\/ ((?:node_modules|src|\.\.?)\/\S+\.(?:[cm]?[jt]sx?|json))$/;

/** `../../x/node_modules/zod/v4/core/core.js` (symlinked node_modules) → `node_modules/zod/…`. */
const fileName = (path) =>
  /(?:^|\/)(node_modules\/.*)$/.exec(path)?.[1] ?? /(?:^|\/)(src\/.*)$/.exec(path)?.[1] ?? path;

/**
 * Line (0-based) → input file, from the boundary comments of an unminified bundle. Lines before
 * the first one are esbuild's own.
 */
function fileIndex(bundle) {
  const files = [];
  let current = HELPERS;
  for (const line of bundle.split("\n")) {
    const boundary = BOUNDARY.exec(line);
    if (boundary) current = fileName(boundary[1]);
    files.push(current);
  }
  return (line) => files[line] ?? HELPERS;
}

function attribute(profile, fileOfLine) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  const isBundle = (node) => /(^|\/)worker\/index\.js$/.test(node.callFrame.url);
  const isModuleScope = (node) => isBundle(node) && node.callFrame.functionName === "__module_scope__";

  // Self time of every node (µs), the usual way: each sample owns the interval that ends with it.
  const self = new Map();
  for (const [index, id] of (profile.samples ?? []).entries()) {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas?.[index] ?? 0));
  }

  const totals = new Map();
  const add = (key, micros) => totals.set(key, (totals.get(key) ?? 0) + micros);
  for (const [id, micros] of self) {
    const node = nodes.get(id);
    const name = node.callFrame.functionName;
    if (name === "(idle)" || name === "(root)") continue;
    if (name === "(garbage collector)") {
      add(GC, micros);
      continue;
    }
    if (name === "(program)") {
      add(COMPILE, micros);
      continue;
    }
    // Builtins and runtime functions: charge the nearest caller in the bundle (or the entry).
    let owner = node;
    while (owner && !isBundle(owner) && owner.callFrame.url === "") owner = nodes.get(parents.get(owner.id));
    if (!owner || !isBundle(owner)) {
      add(COMPILE, micros); // the profiler entry's `import()`: loading and compiling the bundle
      continue;
    }
    if (isModuleScope(owner)) {
      // Spread over the lines V8 saw (only when the sample is the scope itself; a builtin called
      // from module scope carries no line and goes to the scope's line mix too).
      const ticks = owner.positionTicks ?? [];
      const total = ticks.reduce((sum, tick) => sum + tick.ticks, 0);
      if (total === 0) {
        add("(module scope, no line recorded)", micros);
        continue;
      }
      for (const tick of ticks) add(fileOfLine(tick.line - 1), (micros * tick.ticks) / total);
      continue;
    }
    add(fileOfLine(owner.callFrame.lineNumber), micros);
  }
  return totals;
}

// --- view 2: inclusive evaluation time per file, in Node ----------------------------------

const MARK = "__startup_mark__";

/** The bundle with `__startup_mark__(i)` before each file's code (on the comment's line). */
function instrumentSections(bundle) {
  const sections = [HELPERS];
  const lines = bundle.split("\n").map((line) => {
    const boundary = BOUNDARY.exec(line);
    if (!boundary) return line;
    sections.push(fileName(boundary[1]));
    return `${MARK}(${sections.length - 1}); ${line}`;
  });
  lines[0] = `${MARK}(0); ${lines[0]}`;
  return { code: lines.join("\n"), sections };
}

const NODE_RUNNER = `
import { pathToFileURL } from "node:url";
const marks = [];
globalThis.${MARK} = (section) => { marks.push(section, performance.now()); };
const start = performance.now();
await import(pathToFileURL(process.argv[2]).href);
const end = performance.now();
process.stdout.write(JSON.stringify({ start, end, marks }));
`;

/** One fresh Node process per run; per file: the time from its mark to the next one (ms). */
function timeSections(dir, bundle) {
  const { code, sections } = instrumentSections(bundle);
  const modulePath = join(dir, "instrumented.mjs");
  const runnerPath = join(dir, "run-sections.mjs");
  writeFileSync(modulePath, code);
  writeFileSync(runnerPath, NODE_RUNNER);
  const perRun = [];
  for (let run = 0; run < nodeRuns; run++) {
    const { start, end, marks } = JSON.parse(
      execFileSync(process.execPath, [runnerPath, modulePath], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      }),
    );
    const totals = new Map([[COMPILE, marks[1] - start]]);
    for (let index = 0; index < marks.length; index += 2) {
      const file = sections[marks[index]];
      const until = index + 3 < marks.length ? marks[index + 3] : end;
      totals.set(file, (totals.get(file) ?? 0) + until - marks[index + 1]);
    }
    perRun.push(totals);
    process.stderr.write(`\rnode runs ${run + 1}/${nodeRuns}`);
  }
  process.stderr.write("\n");
  return perRun;
}

// --- report ---------------------------------------------------------------------------------

/** "hono", "@hono/zod-validator", "our code (src/)", or the key itself for the other buckets. */
function packageOf(key) {
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(key);
  if (inPackage) return inPackage[1];
  return key.startsWith("src/") ? "our code (src/)" : key;
}

/**
 * Per key over runs (`mean` for sampled self time: small files are 0 in most runs; `median` for
 * timed sections: robust to the odd preempted run), rolled up by package too. Values in ms.
 */
function summarise(perRun, statistic) {
  const of = (numbers) => {
    if (statistic === "mean") return numbers.reduce((a, b) => a + b, 0) / numbers.length;
    const sorted = [...numbers].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  };
  const keys = [...new Set(perRun.flatMap((totals) => [...totals.keys()]))];
  const byFile = keys.map((key) => [key, of(perRun.map((totals) => totals.get(key) ?? 0))]);
  const packages = [...new Set(keys.map(packageOf))];
  const byPackage = packages.map((name) => [
    name,
    of(
      perRun.map((totals) =>
        keys.filter((key) => packageOf(key) === name).reduce((sum, key) => sum + (totals.get(key) ?? 0), 0),
      ),
    ),
  ]);
  const totals = perRun.map((totals) => [...totals.values()].reduce((a, b) => a + b, 0));
  const sort = (rows) => rows.sort((a, b) => b[1] - a[1]);
  return {
    total: of(totals),
    min: Math.min(...totals),
    max: Math.max(...totals),
    byPackage: sort(byPackage),
    byFile: sort(byFile),
  };
}

function printView(title, view, fileFilter) {
  const ms = (value) => value.toFixed(2).padStart(6);
  const share = (value) => `${((100 * value) / view.total).toFixed(0).padStart(3)} %`;
  console.log(`\n${title}`);
  console.log(`  total ${view.total.toFixed(1)} ms (runs: ${view.min.toFixed(1)}–${view.max.toFixed(1)})`);
  console.log("\n  by package");
  for (const [name, value] of view.byPackage) console.log(`  ${ms(value)} ms ${share(value)}  ${name}`);
  console.log(`\n  by file (top ${values.top}${fileFilter ? `, ${fileFilter.label}` : ""})`);
  const rows = fileFilter ? view.byFile.filter(([name]) => fileFilter.test(name)) : view.byFile;
  for (const [name, value] of rows.slice(0, Number(values.top)))
    console.log(`  ${ms(value)} ms ${share(value)}  ${name}`);
}

function report(selfTime, sections, bundleBytes) {
  const round = (value) => Math.round(value * 100) / 100;
  const asJson = (view, statistic, runsCount) => ({
    statistic,
    runs: runsCount,
    total_ms: round(view.total),
    by_package_ms: Object.fromEntries(view.byPackage.map(([name, value]) => [name, round(value)])),
    by_file_ms: Object.fromEntries(view.byFile.map(([name, value]) => [name, round(value)])),
  });
  const self = summarise(selfTime, "mean");
  const inclusive = summarise(sections, "median");
  printView(
    `1. Self time in workerd (V8 sampling profiler, every ${SAMPLING_INTERVAL_US} µs), unminified bundle ` +
      `(${(bundleBytes / 1024).toFixed(0)} KiB), mean of ${selfTime.length} isolates`,
    self,
  );
  printView(
    `2. Evaluation time per file, inclusive of the calls its module scope makes (Node, median of ${sections.length})`,
    inclusive,
    { label: "our files", test: (name) => name.startsWith("src/") },
  );
  if (values.json !== "none") {
    const result = {
      config: relative(ROOT, configPath),
      bundle: "unminified (wrangler deploy --dry-run --minify=false)",
      workerd_self_time: { sampling_interval_us: SAMPLING_INTERVAL_US, ...asJson(self, "mean", selfTime.length) },
      node_inclusive_by_file: asJson(inclusive, "median", sections.length),
    };
    writeFileSync(resolve(ROOT, values.json), toJson(result));
    console.log(`\nwrote ${values.json}`);
  }
}

// --- main ---------------------------------------------------------------------------------

async function main() {
  const outDir = mkdtempSync(join(tmpdir(), "startup-profile-"));
  try {
    // `--env=` (empty) names the top-level environment explicitly.
    execFileSync(
      "wrangler",
      ["deploy", "--dry-run", "--minify=false", "--outdir", outDir, "-c", configPath, "--env="],
      {
        env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    const bundle = readFileSync(join(outDir, "index.js"), "utf8");
    const { workerOptions } = unstable_getMiniflareWorkerOptions(configPath);

    const wrapped = wrapTopLevel(bundle);
    const profiles = [];
    for (let run = 0; run < runs; run++) {
      profiles.push(await profileStartup(wrapped, workerOptions));
      process.stderr.write(`\rprofiled ${run + 1}/${runs}`);
    }
    process.stderr.write("\n");

    const fileOfLine = fileIndex(bundle);
    const toMs = (totals) => new Map([...totals].map(([key, micros]) => [key, micros / 1000]));
    report(
      profiles.map((profile) => toMs(attribute(profile, fileOfLine))),
      timeSections(outDir, bundle),
      bundle.length,
    );
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

await main();
