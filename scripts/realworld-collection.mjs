// Runs the RealWorld project's own API test collection (Postman, through newman) against /api:
// `npm run realworld:collection -- [--base URL] [--collection FILE] [--delay-request MS]
//                                     [--username NAME] [--email EMAIL] [--password PASSWORD]`
//
// Same globals as the RealWorld repository's api/run-api-tests.sh: APIURL (default
// http://localhost:8787/api, i.e. `npm run dev`), USERNAME (u<unix time>), EMAIL (<USERNAME>@mail.com),
// PASSWORD ("password"), 500 ms between requests. The collection is not stored in this repository:
// without --collection it is downloaded, pinned to one commit, into a temporary directory.
// The run registers two accounts (USERNAME and celeb_USERNAME) that it does not delete.
// Prints a summary and every failure; exits 1 on any failure, 2 on a usage error.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import newman from "newman";

const REALWORLD_COMMIT = "747190ecf0bb27d461cf1100f6cb3468c6c914ed";
const COLLECTION_URL = `https://raw.githubusercontent.com/gothinkster/realworld/${REALWORLD_COMMIT}/api/Conduit.postman_collection.json`;

function usage(message) {
  console.error(`realworld:collection: ${message}`);
  console.error(
    "usage: npm run realworld:collection -- [--base URL] [--collection FILE] [--delay-request MS] " +
      "[--username NAME] [--email EMAIL] [--password PASSWORD]",
  );
  process.exit(2);
}

let options;
try {
  ({ values: options } = parseArgs({
    options: {
      base: { type: "string", default: "http://localhost:8787/api" },
      collection: { type: "string" },
      "delay-request": { type: "string", default: "500" },
      username: { type: "string", default: `u${Math.floor(Date.now() / 1000)}` },
      email: { type: "string" },
      password: { type: "string", default: "password" },
    },
  }));
} catch (error) {
  usage(error.message);
}
const apiUrl = options.base.replace(/\/+$/, "");
if (!/^https?:\/\//.test(apiUrl)) usage(`--base must be an http(s) URL, got ${JSON.stringify(options.base)}`);
const delayRequest = Number(options["delay-request"]);
if (!Number.isInteger(delayRequest) || delayRequest < 0) usage("--delay-request must be a whole number of ms");
const email = options.email ?? `${options.username}@mail.com`;

async function downloadCollection() {
  const file = join(await mkdtemp(join(tmpdir(), "realworld-")), "Conduit.postman_collection.json");
  console.log(`downloading the collection (realworld@${REALWORLD_COMMIT.slice(0, 7)}) to ${file}`);
  const response = await fetch(COLLECTION_URL, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`GET ${COLLECTION_URL}: ${response.status}`);
  await writeFile(file, await response.text());
  return file;
}

let collection = options.collection;
try {
  collection ??= await downloadCollection();
} catch (error) {
  console.error(`realworld:collection: could not download the collection: ${error.cause?.message ?? error.message}`);
  console.error("(pass a local copy with --collection FILE)");
  process.exit(1);
}

console.log(`running ${collection} against ${apiUrl} as ${options.username} <${email}>, ${delayRequest} ms apart`);
newman.run(
  {
    collection,
    globalVar: [
      { key: "APIURL", value: apiUrl },
      { key: "USERNAME", value: options.username },
      { key: "EMAIL", value: email },
      { key: "PASSWORD", value: options.password },
    ],
    delayRequest,
    timeoutRequest: 30_000,
    // newman's own per-request lines; the summary and the failures are printed below.
    reporters: ["cli"],
    reporter: { cli: { noSummary: true, noFailures: true, noConsole: true } },
  },
  (error, summary) => {
    if (error) {
      console.error(`realworld:collection: newman could not run: ${error.message}`);
      process.exit(1);
    }
    const { requests, assertions } = summary.run.stats;
    const failures = summary.run.failures;
    console.log(`requests:   ${requests.total} (${requests.failed} without a response)`);
    console.log(`assertions: ${assertions.total - assertions.failed} passed, ${assertions.failed} failed`);
    for (const [index, failure] of failures.entries()) {
      const item = failure.source && summary.collection.oneDeep(failure.source.id);
      const folder = item?.parent();
      const where = item
        ? `${folder && folder !== summary.collection ? `${folder.name} › ` : ""}${item.name}`
        : failure.at;
      const what = failure.error.test ?? failure.error.name;
      console.log(`${index + 1}. ${where}: ${what}\n   ${failure.error.message}`);
    }
    const ok = failures.length === 0 && !summary.run.error;
    console.log(`realworld:collection: ${ok ? "all passed" : `${failures.length} failure(s)`} against ${apiUrl}`);
    process.exit(ok ? 0 : 1);
  },
);
