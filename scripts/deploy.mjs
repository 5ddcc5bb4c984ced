// `npm run deploy -- --env production`: applies the D1 migrations to that environment's remote
// database, then deploys. Without --env it targets the top-level (default) configuration.
import { execFileSync } from "node:child_process";

const args = process.argv.slice(2);
const index = args.indexOf("--env");
const environment = index >= 0 ? args[index + 1] : undefined;
if (index >= 0 && !environment) {
  console.error("usage: npm run deploy -- [--env staging|production]");
  process.exit(2);
}
const envArgs = [`--env=${environment ?? ""}`];
const run = (command) =>
  execFileSync("wrangler", command, { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });

run(["d1", "migrations", "apply", "DB", "--remote", ...envArgs]);
run(["deploy", ...envArgs]);
