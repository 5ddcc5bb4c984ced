// The Chromium the e2e browser tests drive through playwright-core: Debian's when it is installed,
// otherwise the one the `@sparticuz/chromium` devDependency ships inside the npm package, so a
// plain `npm ci` is all a machine needs. Any failure to find or start it fails the test.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium } from "playwright-core";

const SYSTEM_CHROMIUM = "/usr/bin/chromium";
const SYSTEM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const PACKAGE = "@sparticuz/chromium";

/**
 * Unpacks the package's compressed Chromium once per package version into its own directory
 * under the temp dir and returns the binary's path. The package itself would unpack into
 * `$TMPDIR/chromium` and reuse whatever is there (another version, or a half-written file from an
 * interrupted or concurrent run), so it unpacks into a fresh directory that is renamed into place
 * only when complete.
 */
function unpackedSparticuzChromium(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve(PACKAGE);
  } catch {
    throw new Error(`No browser: ${SYSTEM_CHROMIUM} does not exist and ${PACKAGE} is not installed (run npm ci).`);
  }
  const { version } = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as {
    version: string;
  };
  const target = join(tmpdir(), `sparticuz-chromium-${version}`);
  const binary = join(target, "chromium");
  if (existsSync(binary)) return binary;

  const staging = mkdtempSync(join(tmpdir(), `sparticuz-chromium-${version}-`));
  try {
    execFileSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `await (await import(${JSON.stringify(pathToFileURL(entry).href)})).default.executablePath()`,
      ],
      { env: { ...process.env, TMPDIR: staging }, stdio: ["ignore", "pipe", "pipe"] },
    );
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another run renamed its copy into place first: use that one.
    if (existsSync(binary)) return binary;
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`Could not unpack the Chromium shipped in ${PACKAGE} into ${target}: ${String(error)}\n${stderr}`);
  }
  return binary;
}

/** Launches headless Chromium: the system one if present, else the one from `@sparticuz/chromium`. */
export async function launchChromium(): Promise<Browser> {
  let executablePath = SYSTEM_CHROMIUM;
  let args = SYSTEM_ARGS;
  if (!existsSync(SYSTEM_CHROMIUM)) {
    executablePath = unpackedSparticuzChromium();
    args = (await import("@sparticuz/chromium")).default.args;
  }
  try {
    return await chromium.launch({ executablePath, args, headless: true });
  } catch (error) {
    throw new Error(
      `Chromium at ${executablePath} did not start (a missing shared library shows in the log below): ${String(error)}`,
    );
  }
}
