import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import { loadSettings } from "../config";
import { ServiceUnavailableError } from "../errors";
import { describeRoute } from "../openapi/annotations";

type CheckResult = "ok" | "failed";

const livenessSchema = z.object({ status: z.literal("ok") });
const readinessSchema = z.object({
  status: z.literal("ok"),
  checks: z.object({ config: z.literal("ok"), d1: z.literal("ok"), kv: z.literal("ok") }),
});

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
  .get(
    "/",
    describeRoute({
      summary: "Liveness",
      description: "Answers without touching any storage.",
      tag: "health",
      auth: "none",
      success: { status: 200, description: "Alive", schema: livenessSchema },
      errors: [],
    }),
    (c) => c.json({ status: "ok" as const }),
  )
  .get(
    "/ready",
    describeRoute({
      summary: "Readiness",
      description: "Checks configuration, D1 and KV; 503 names what failed.",
      tag: "health",
      auth: "none",
      success: { status: 200, description: "Ready", schema: readinessSchema },
      errors: [],
    }),
    async (c) => {
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
    },
  );
