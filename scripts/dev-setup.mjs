// Runs before `npm run dev`: makes a local `.dev.vars` with a random JWT_SECRET when there is none,
// then applies the D1 migrations to the local database that `wrangler dev` uses.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";

const DEV_VARS = ".dev.vars";

if (!existsSync(DEV_VARS)) {
  const secret = randomBytes(48).toString("base64url");
  writeFileSync(
    DEV_VARS,
    `# Local secrets for wrangler dev (git-ignored). Production uses \`wrangler secret put\`.\nJWT_SECRET=${secret}\n`,
    {
      mode: 0o600,
    },
  );
  console.log(`dev-setup: created ${DEV_VARS} with a random JWT_SECRET`);
}

execFileSync("wrangler", ["d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
});
