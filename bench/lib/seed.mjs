// Synthetic datasets written straight into D1 as multi-row literal INSERTs (no bound parameters,
// so D1's 100-parameter limit does not apply), sent in batches through the bench server's D1
// binding. Users and posts look like the API's own: UUIDv7 ids, ISO-8601 UTC times with ms.
import { randomBytes } from "node:crypto";

const ROWS_PER_INSERT = 100; // ~60 KB per statement, well under D1's statement-size limit
const POSTS_PER_BATCH = 2000; // one D1 batch (one implicit transaction) per 2,000 posts

/** UUIDv7: 48-bit ms timestamp, version 7, variant 10, random rest (same layout as src/lib/ids.ts). */
export function uuidv7(ms) {
  const bytes = randomBytes(16);
  let time = ms;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const iso = (ms) => new Date(ms).toISOString();
const q = (text) => `'${String(text).replaceAll("'", "''")}'`;

/** Small deterministic PRNG so every dataset of a given size has the same shape. */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "edge worker cache latency request response header cursor index query database durable object " +
  "binding deploy region replica token session secret hash route handler stream queue batch " +
  "schema migration column table row page limit offset bookmark version etag status published draft"
).split(" ");

function sentence(rand, minWords, maxWords) {
  const n = minWords + Math.floor(rand() * (maxWords - minWords + 1));
  const words = [];
  for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]);
  const text = words.join(" ");
  return text[0].toUpperCase() + text.slice(1);
}

function paragraph(rand, minChars, maxChars) {
  const target = minChars + Math.floor(rand() * (maxChars - minChars + 1));
  let text = "";
  while (text.length < target) text += `${sentence(rand, 6, 14)}. `;
  return text.slice(0, target).trimEnd();
}

/** A well-formed `pbkdf2_sha256$100000$<salt>$<hash>` nobody knows the password of. */
const fakePasswordHash = () =>
  `pbkdf2_sha256$100000$${randomBytes(16).toString("base64url")}$${randomBytes(32).toString("base64url")}`;

/** Progress bar on stderr (only redrawn when the percentage changes). */
export function progressBar(label, total) {
  const tty = process.stderr.isTTY;
  let lastPct = -1;
  const started = Date.now();
  return {
    update(done) {
      const pct = Math.floor((done / total) * 100);
      if (pct === lastPct) return;
      lastPct = pct;
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      const bar = `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
      const line = `${label} [${bar}] ${String(pct).padStart(3)}% ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`;
      if (tty) process.stderr.write(`\r${line}`);
      else if (pct % 10 === 0) process.stderr.write(`${line}\n`);
    },
    done() {
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(`${tty ? "\n" : ""}${label}: done in ${secs} s\n`);
    },
  };
}

/**
 * Seeds `users` authors and `users * postsPerUser` posts. Post i belongs to author i % users, so
 * every author's posts are spread over the whole timeline; every `draftEvery`-th post is a draft.
 * created_at is distinct and increasing, all in the past (the newest one second before `nowMs`).
 *
 * `execBatch(statements)` runs an array of SQL statements as one D1 batch.
 * Returns ids the scenarios need; the full list of published ids is kept (100k strings is small).
 */
export async function seedDataset({
  execBatch,
  users,
  postsPerUser,
  draftEvery = 10,
  contentChars = [300, 600],
  label,
  nowMs = Date.now(),
}) {
  const rand = mulberry32(users * 1_000_003 + postsPerUser);
  const totalPosts = users * postsPerUser;
  // One post per second of history (plus sub-second jitter), ending 1 s before now.
  const firstPostMs = nowMs - (totalPosts + 1) * 1000;
  const userStartMs = firstPostMs - (users + 1) * 1000;

  const authorIds = [];
  const userStatements = [];
  for (let start = 0; start < users; start += ROWS_PER_INSERT) {
    const rows = [];
    for (let j = start; j < Math.min(users, start + ROWS_PER_INSERT); j++) {
      const ms = userStartMs + j * 1000;
      const id = uuidv7(ms);
      authorIds.push(id);
      rows.push(
        `(${[id, `seed-author-${j}@bench.example`, `Seed Author ${j}`, fakePasswordHash(), "user", 1, iso(ms), iso(ms)].map((v) => (typeof v === "number" ? v : q(v))).join(",")})`,
      );
    }
    userStatements.push(
      `INSERT INTO users (id, email, name, password_hash, role, is_active, created_at, updated_at) VALUES ${rows.join(",")}`,
    );
  }
  await execBatch(userStatements);

  const publishedIds = [];
  const draftIds = [];
  const bar = progressBar(label ?? `seeding ${totalPosts.toLocaleString("en-US")} posts`, totalPosts);
  let lastCreatedMs = 0;
  for (let batchStart = 0; batchStart < totalPosts; batchStart += POSTS_PER_BATCH) {
    const batchEnd = Math.min(totalPosts, batchStart + POSTS_PER_BATCH);
    const statements = [];
    for (let start = batchStart; start < batchEnd; start += ROWS_PER_INSERT) {
      const rows = [];
      for (let i = start; i < Math.min(batchEnd, start + ROWS_PER_INSERT); i++) {
        const ms = firstPostMs + i * 1000 + Math.floor(rand() * 900);
        if (ms <= lastCreatedMs) throw new Error("created_at must increase");
        lastCreatedMs = ms;
        const id = uuidv7(ms);
        const published = (i + 1) % draftEvery !== 0;
        (published ? publishedIds : draftIds).push(id);
        const values = [
          q(id),
          q(authorIds[i % users]),
          // Slugs must be unique; the id is (the migration gives older posts the same).
          q(id),
          q(`${sentence(rand, 3, 8)} #${i}`),
          q(paragraph(rand, contentChars[0], contentChars[1])),
          q(published ? "published" : "draft"),
          q(iso(ms)),
          q(iso(ms)),
          published ? q(iso(ms)) : "NULL",
          1,
        ];
        rows.push(`(${values.join(",")})`);
      }
      statements.push(
        `INSERT INTO posts (id, author_id, slug, title, content, status, created_at, updated_at, published_at, version) VALUES ${rows.join(",")}`,
      );
    }
    await execBatch(statements);
    bar.update(batchEnd);
  }
  bar.done();
  return { authorIds, publishedIds, draftIds, totalPosts };
}
