import { app } from "./app";
import { createDb } from "./db/client";
import { runHousekeeping } from "./db/housekeeping";

export { UserRecord } from "./user-record/durable-object";

export default {
  fetch: app.fetch,
  /** Cron Triggers (wrangler.toml `[triggers]`): prune expired rows in bounded batches. */
  scheduled: async (controller, env) => {
    await runHousekeeping(createDb(env.DB), controller);
  },
} satisfies ExportedHandler<Cloudflare.Env>;
