// `npm run size`: builds the Worker as it deploys (minified) with `wrangler check startup`, prints
// bundle KiB, gzip KiB and the local startup CPU time, and fails when the gzip size is over budget.
// Sizes are deterministic, so CI asserts them; startup time is reported, not asserted.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";

const GZIP_BUDGET_KIB = 80;
const STARTUP_BUDGET_MS = 10;

mkdirSync("bench/out", { recursive: true });
const output = execFileSync("wrangler", ["check", "startup", "--outfile", "bench/out/startup.cpuprofile"], {
  encoding: "utf8",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  stdio: ["ignore", "pipe", "inherit"],
});
const bundle = /Bundle: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
const active = /Active: ([\d.]+) ms/.exec(output);
if (!bundle || !active) {
  console.error(output);
  throw new Error("could not read the sizes from `wrangler check startup`");
}
const result = {
  bundle_kib: Number(bundle[1]),
  gzip_kib: Number(bundle[2]),
  startup_cpu_ms: Number(active[1]),
  budgets: { gzip_kib: GZIP_BUDGET_KIB, startup_cpu_ms: STARTUP_BUDGET_MS },
};
writeFileSync("bench/size.json", `${JSON.stringify(result, null, 2)}\n`);
console.log(
  `bundle ${result.bundle_kib} KiB, gzip ${result.gzip_kib} KiB (budget ${GZIP_BUDGET_KIB}), ` +
    `startup CPU ${result.startup_cpu_ms} ms locally (budget ${STARTUP_BUDGET_MS}, reported only)`,
);
if (result.gzip_kib > GZIP_BUDGET_KIB) {
  console.error(`size: gzip ${result.gzip_kib} KiB is over the ${GZIP_BUDGET_KIB} KiB budget`);
  process.exit(1);
}
