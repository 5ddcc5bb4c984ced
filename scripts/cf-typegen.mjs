// `npm run cf-typegen` writes worker-configuration.d.ts (at the project root, where `wrangler types`
// writes it by default and Cloudflare's templates keep it) with `wrangler types`: the Env of every
// environment in wrangler.toml plus the Workers runtime types for its compatibility date.
// `npm run check:types` (CI) generates the same file next to it and fails when the committed one
// differs: wrangler.toml, the compatibility date or workerd changed without a regeneration.
//
// Secrets are read from the committed .dev.vars.example, never from a developer's .dev.vars (which
// `wrangler types` would otherwise read), so every machine generates the same file. Vars are plain
// `string` (--strict-vars=false): their values differ per environment and src/config.ts parses them.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";

const TARGET = "worker-configuration.d.ts";
// A sibling, so that the relative import of the main module in the output is the same.
const CHECK_OUTPUT = ".worker-configuration.check.d.ts";
const check = process.argv.includes("--check");

function generate(path) {
  execFileSync("wrangler", ["types", path, "--strict-vars=false", "--env-file=.dev.vars.example"], {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    stdio: check ? ["ignore", "ignore", "inherit"] : "inherit",
  });
}

if (!check) {
  generate(TARGET);
} else {
  let generated;
  try {
    generate(CHECK_OUTPUT);
    // The header's command names the output path (and omits it when it is wrangler's default,
    // TARGET); everything else must match byte for byte.
    generated = readFileSync(CHECK_OUTPUT, "utf8").replace(` ${CHECK_OUTPUT}`, "");
  } finally {
    rmSync(CHECK_OUTPUT, { force: true });
  }
  const committed = readFileSync(TARGET, "utf8");
  if (generated !== committed) {
    const committedLines = committed.split("\n");
    const generatedLines = generated.split("\n");
    let line = 0;
    while (committedLines[line] === generatedLines[line]) line += 1;
    console.error(
      `check:types: ${TARGET} is not what \`wrangler types\` generates from wrangler.toml ` +
        `(first difference at line ${line + 1}).\n` +
        `  committed: ${committedLines[line] ?? "(end of file)"}\n` +
        `  generated: ${generatedLines[line] ?? "(end of file)"}\n` +
        "Run `npm run cf-typegen` and commit the result.",
    );
    process.exit(1);
  }
  console.log(`check:types: ${TARGET} is up to date`);
}
