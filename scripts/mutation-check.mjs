// `npm run test:mutations [-- NAME…]`: breaks one invalidation or freshness rule at a time in a
// scratch copy of the repository and runs the suites that guard the read cache against it,
// printing which suites catch which break. A rule no suite catches is a gap in the tests.
// Takes about 15 minutes on an idle machine (do not reinstall node_modules meanwhile: the copy
// links to it); the table goes into the README ("How the edge simulation works").
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toJson } from "../bench/lib/json.mjs";

const MUTATIONS = [
  {
    name: "publish/unpublish no longer retires list pages",
    file: "src/cache/invalidation.ts",
    from: 'const touchesPublic = statusBefore === "published" || statusAfter === "published" || statusAfter === "unknown";',
    to: 'const touchesPublic = (statusBefore === "published" && statusAfter === "published") || statusAfter === "unknown";',
  },
  {
    name: "a post write no longer retires the post's own entry",
    file: "src/cache/invalidation.ts",
    from: "return touchesPublic ? [own, [generationKeys.authorPosts(post.authorId)], generationKeys.listShards()] : [own];",
    to: "return touchesPublic ? [[generationKeys.authorPosts(post.authorId)], generationKeys.listShards()] : [];",
  },
  {
    name: "a public post write no longer retires its author's list pages",
    file: "src/cache/invalidation.ts",
    from: "return touchesPublic ? [own, [generationKeys.authorPosts(post.authorId)], generationKeys.listShards()] : [own];",
    to: "return touchesPublic ? [own, generationKeys.listShards()] : [own];",
  },
  {
    name: "an author rename or deletion no longer retires the author's posts",
    file: "src/cache/invalidation.ts",
    from: "return [[generationKeys.author(authorId)], generationKeys.listShards()];",
    to: "return [generationKeys.listShards()];",
  },
  {
    name: "an account deletion retires nothing",
    file: "src/domain/accounts.ts",
    from: '(result.value.kind === "ok" && (before === undefined || !samePublicFace(result.value.value, before)));',
    to: '(result.value.kind === "ok" && before !== undefined && !samePublicFace(result.value.value, before));',
  },
  {
    name: "a write whose acknowledgement was lost retires nothing",
    file: "src/cache/invalidation.ts",
    from: '    await cache.bump(retired({ kind: "unknown" }), "unknown");\n',
    to: "",
  },
  {
    name: "a generation KV refuses is dropped (one attempt, one shard, no retry after the response)",
    file: "src/cache/public-cache.ts",
    from: "for (let i = 0; i < target.length; i++) {",
    to: "for (let i = 0; i < 1; i++) {",
    also: [
      { from: "KV_WRITE_PAUSES_MS, floor)", to: "[], floor)" },
      { from: "this.moveOn(target, mine, LATE_BUMP_PAUSES_MS)", to: "this.moveOn(target, mine, [])" },
    ],
  },
  {
    name: "fills ignore the bookmark in the generations (may read a lagging replica)",
    file: "src/cache/generations.ts",
    from: "  let newest: D1Bookmark | undefined;\n",
    to: "  let newest: D1Bookmark | undefined;\n  if (newest === undefined) return undefined;\n",
  },
  {
    name: "a miss does not re-read when the author's generation is newer than the read",
    file: "src/cache/public-cache.ts",
    from: "if (!floor || meetsFloor(this.options.freshness.getBookmark(), floor)) return { value, stamp };",
    to: "if (!floor || meetsFloor(this.options.freshness.getBookmark(), floor) || floor) return { value, stamp };",
  },
  {
    name: "an entry older than the client's bookmark (or its user's newest write) is still served to it",
    file: "src/cache/public-cache.ts",
    from: "if (floor !== undefined && isNewerBookmark(floor, entry.bookmark)) return false;",
    to: "",
  },
  {
    name: "a RealWorld favourite retires nothing (count and favorited= lists stay stale)",
    file: "src/cache/invalidation.ts",
    from: "export function retiredByFavorite(postId: string): GenerationTarget[] {\n  return [[generationKeys.post(postId)], generationKeys.listShards()];",
    to: "export function retiredByFavorite(postId: string): GenerationTarget[] {\n  return [];",
  },
  {
    name: "a RealWorld comment retires nothing (comments read from a lagging replica)",
    file: "src/cache/invalidation.ts",
    from: "export function retiredByComment(postId: string): GenerationTarget[] {\n  return [[generationKeys.post(postId)]];",
    to: "export function retiredByComment(postId: string): GenerationTarget[] {\n  return [];",
  },
  {
    name: "a RealWorld follow retires nothing (the feed reads a lagging replica)",
    file: "src/cache/invalidation.ts",
    from: "  return [[generationKeys.follows(followerId)]];",
    to: "  return [];",
  },
  {
    name: "the user record is not consulted: a revoked session version is honoured",
    file: "src/middleware/auth.ts",
    from: "    if (sessionVersion < record.sessionVersion) throw",
    to: "    if (sessionVersion < record.sessionVersion && false) throw",
  },
  {
    name: "the user's newest write does not raise its reads (read-your-writes rests on the bookmark alone)",
    file: "src/middleware/auth.ts",
    from: "    if (record.newestWrite !== null) {",
    to: "    if (record.newestWrite !== null && false) {",
  },
  {
    name: "a revoking write whose outcome is unknown ends no session",
    file: "src/domain/sessions.ts",
    from: "    if (!committedNothing(error)) await ctx.records.endSessions(userId);\n",
    to: "",
  },
  {
    name: "sessions end before the revoking write commits, not after it",
    file: "src/domain/sessions.ts",
    from: "  let value: T;\n  try {\n    value = await write();",
    to: "  const ended = await ctx.records.endSessions(userId);\n  let value: T;\n  try {\n    value = await write();",
    also: [
      {
        from: "sessionVersion: mustEnd(value) ? await ctx.records.endSessions(userId) : undefined",
        to: "sessionVersion: mustEnd(value) ? ended : undefined",
      },
    ],
  },
];

const SUITES = [
  { name: "sim: model", file: "test/sim/edge-model.test.ts", project: "sim" },
  { name: "sim: problems", file: "test/sim/edge-problems.test.ts", project: "sim" },
  { name: "cache", file: "test/cache.test.ts", project: "workers" },
  { name: "cache-leak", file: "test/cache-leak.test.ts", project: "workers" },
  { name: "sim: RealWorld", file: "test/sim/conduit-edge.test.ts", project: "sim" },
  { name: "RealWorld cache", file: "test/conduit/cache.test.ts", project: "workers" },
  { name: "sim: user record", file: "test/sim/user-record.test.ts", project: "sim" },
];

const only = process.argv.slice(2);
const root = process.cwd();
const scratch = mkdtempSync(join(tmpdir(), "mutations-"));
try {
  // The working tree as it is (uncommitted changes and the generated OpenAPI module included).
  execFileSync("git", ["worktree", "add", "--detach", scratch, "HEAD"], { stdio: "ignore" });
  symlinkSync(join(root, "node_modules"), join(scratch, "node_modules"));
  for (const path of [
    "src",
    "test",
    "scripts",
    "public",
    "vitest.config.ts",
    "wrangler.toml",
    "migrations",
    "package.json",
    "worker-configuration.d.ts",
  ]) {
    cpSync(join(root, path), join(scratch, path), { recursive: true });
  }
  /** "caught" only when tests ran and failed; a run that could not start is an error, not a catch. */
  const runSuite = (suite) => {
    const run = spawnSync("npx", ["vitest", "run", "--project", suite.project, suite.file], {
      cwd: scratch,
      encoding: "utf8",
      timeout: 600_000,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    const output = `${run.stdout}${run.stderr}`;
    if (run.status === 0) return "missed";
    if (/Tests\s+\d+ failed/.test(output)) return "caught";
    throw new Error(`${suite.name} did not run:\n${output.slice(-2000)}`);
  };
  for (const suite of SUITES) {
    if (runSuite(suite) !== "missed") throw new Error(`${suite.name} fails without any mutation`);
  }
  console.error("baseline: every suite passes unmutated");
  const rows = [];
  for (const mutation of MUTATIONS.filter((m) => only.length === 0 || only.some((o) => m.name.includes(o)))) {
    const path = join(scratch, mutation.file);
    const original = readFileSync(path, "utf8");
    let mutated = original;
    for (const { from, to } of [{ from: mutation.from, to: mutation.to }, ...(mutation.also ?? [])]) {
      if (!mutated.includes(from)) throw new Error(`mutation "${mutation.name}" no longer applies to ${mutation.file}`);
      mutated = mutated.replace(from, to);
    }
    writeFileSync(path, mutated);
    const caughtBy = [];
    for (const suite of SUITES) {
      const started = Date.now();
      const caught = runSuite(suite) === "caught";
      if (caught) caughtBy.push(suite.name);
      console.error(
        `${mutation.name} / ${suite.name}: ${caught ? "caught" : "missed"} (${Math.round((Date.now() - started) / 1000)} s)`,
      );
    }
    writeFileSync(path, original);
    rows.push({ mutation: mutation.name, caughtBy });
  }
  console.log("\n| broken rule | caught by |\n| --- | --- |");
  for (const row of rows) console.log(`| ${row.mutation} | ${row.caughtBy.join(", ") || "**none**"} |`);
  writeFileSync(join(root, "bench/mutations.json"), toJson(rows));
} finally {
  execFileSync("git", ["worktree", "remove", "--force", scratch], { stdio: "ignore" });
  rmSync(scratch, { recursive: true, force: true });
}
