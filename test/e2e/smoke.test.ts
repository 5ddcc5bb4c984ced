// `npm run smoke -- <url>` (scripts/smoke.mjs) against the wrangler dev that global-setup.ts starts:
// the script that checks a fresh deployment must pass against the local build too. It registers one
// account; the e2e files share one dev server and its REGISTER_IP_LIMITER (5 a minute from one IP),
// and register five in all (wrangler-dev, typed-client, docs-browser, smoke, account-recovery).
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, inject, it } from "vitest";

const base = inject("baseUrl");
const SCRIPT = fileURLToPath(new URL("../../scripts/smoke.mjs", import.meta.url));

it("npm run smoke passes against wrangler dev and cleans up after itself", async () => {
  const run = await promisify(execFile)(process.execPath, [SCRIPT, base], { timeout: 50_000 }).catch(
    (error: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`smoke exited with ${error.code}\n${error.stdout ?? ""}\n${error.stderr ?? ""}`);
    },
  );
  expect(run.stderr).toBe("");
  expect(run.stdout).toContain("clean-up: login → 401 and the post → 404: account and post are gone");
  const summary = run.stdout.trim().split("\n").at(-1) ?? "";
  expect(summary.replace(/\d+/, "N")).toBe(`smoke: N checks passed against ${base}`);
});
