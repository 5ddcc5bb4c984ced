// `wrangler deploy --dry-run` for every environment: fails on any configuration or build error,
// without a Cloudflare account. Prints each bundle's size.
import { execFileSync } from "node:child_process";

const ENVIRONMENTS = ["", "staging", "production"];
for (const environment of ENVIRONMENTS) {
  const label = environment || "default";
  // `--env=` (empty) names the top-level environment explicitly.
  const args = ["deploy", "--dry-run", "--outdir", `dist/${label}`, `--env=${environment}`];
  const output = execFileSync("wrangler", args, {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const size = /Total Upload: .*/.exec(output)?.[0] ?? "(no size reported)";
  console.log(`check:deploy ${label}: ok — ${size}`);
}
