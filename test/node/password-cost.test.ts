// Only the test runtime may make password hashing cheap: src/auth/password.ts defines the hook and
// test/setup.ts is its one caller. Anything else naming it (production code, scripts, a test that
// could leave it on) fails here, so production code paths cannot pick the test cost.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const HOOK = "useTestPasswordHashCost";
const SEARCHED = ["src", "test", "scripts", "bench", "examples", "migrations", "public"];
const THIS_FILE = relative(ROOT, import.meta.filename);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(path);
    return /\.(ts|mts|js|mjs|json|toml|sql)$/.test(entry.name) ? [path] : [];
  });
}

describe("the cheap password-hashing hook", () => {
  it("is defined in src/auth/password.ts and called only by test/setup.ts", () => {
    const naming = SEARCHED.flatMap((dir) => sourceFiles(join(ROOT, dir)))
      .filter((path) => readFileSync(path, "utf8").includes(HOOK))
      .map((path) => relative(ROOT, path))
      .filter((path) => path !== THIS_FILE)
      .sort();
    expect(naming).toEqual(["src/auth/password.ts", "test/setup.ts"]);
    for (const config of ["wrangler.toml", "vitest.config.ts", "package.json"]) {
      expect(readFileSync(join(ROOT, config), "utf8")).not.toContain(HOOK);
    }
  });
});
