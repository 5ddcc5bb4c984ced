// Makes an existing account an admin: `npm run promote -- EMAIL [--remote] [--env production]`.
// This is the only way to create the first admin; no HTTP request can do it.
import { execFileSync } from "node:child_process";

const args = process.argv.slice(2);
const remote = args.includes("--remote");
const envIndex = args.indexOf("--env");
const environment = envIndex >= 0 ? args[envIndex + 1] : "";
const emails = args.filter((arg, index) => !arg.startsWith("--") && (envIndex < 0 || index !== envIndex + 1));

if (emails.length !== 1) {
  console.error("usage: npm run promote -- EMAIL [--remote] [--env staging|production]");
  process.exit(2);
}

// Same normalisation as the API; the strict pattern also makes the SQL literal below safe.
const email = emails[0].trim().toLowerCase();
if (!/^[a-z0-9.!#$%&*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(email) || email.length > 254) {
  console.error(`promote: "${email}" does not look like an email address`);
  process.exit(2);
}

const now = new Date().toISOString();
const sql = `UPDATE users SET role = 'admin', updated_at = '${now}' WHERE email = '${email.replaceAll("'", "''")}' RETURNING id, email, role;`;
const output = execFileSync(
  "wrangler",
  ["d1", "execute", "DB", remote ? "--remote" : "--local", `--env=${environment ?? ""}`, "--json", "--command", sql],
  { encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "inherit"] },
);
const rows = JSON.parse(output).flatMap((result) => result.results ?? []);
if (rows.length === 0) {
  console.error(`promote: no account with email ${email} (register it first)`);
  process.exit(1);
}
console.log(
  `promote: ${email} is now an admin (${remote ? "remote" : "local"} database). Log in again to get an admin token.`,
);
