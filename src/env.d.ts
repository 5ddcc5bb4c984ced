// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
declare namespace Cloudflare {
  interface Env {
    /** HS256 key for access tokens; `.dev.vars` locally, `wrangler secret put` in production. */
    JWT_SECRET: string;
  }
}
