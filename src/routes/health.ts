import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { loadSettings } from "../config";
import { ServiceUnavailableError } from "../errors";

type CheckResult = "ok" | "failed";

async function check(probe: () => Promise<unknown>): Promise<CheckResult> {
  try {
    await probe();
    return "ok";
  } catch {
    return "failed";
  }
}

/** Liveness touches nothing; readiness checks configuration, D1 and KV, and names what failed. */
export const healthRoutes = new Hono<AppEnv>()
  .get("/", (c) => c.json({ status: "ok" }))
  .get("/ready", async (c) => {
    const settings = await loadSettings(c.env);
    const [d1, kv] = await Promise.all([
      check(() => c.env.DB.prepare("select 1").first()),
      check(() => c.env.KV.get("health:probe")),
    ]);
    const checks = { config: settings.ok ? "ok" : "failed", d1, kv } as const;
    const failed = Object.entries(checks)
      .filter(([, result]) => result === "failed")
      .map(([name]) => name);
    if (failed.length > 0) {
      throw new ServiceUnavailableError(`Not ready: ${failed.join(", ")} failed`, {
        checks,
        ...(settings.ok ? {} : { invalid_settings: settings.invalid }),
      });
    }
    return c.json({ status: "ok", checks });
  });
