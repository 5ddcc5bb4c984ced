import { describe, expect, it } from "vitest";
import { api, json } from "./helpers";

describe("GET /health", () => {
  it("answers without touching storage", async () => {
    const response = await api("/health");
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ok" });
  });
});

describe("GET /health/ready", () => {
  it("reports config, D1 and KV as ok", async () => {
    const response = await api("/health/ready");
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ok", checks: { config: "ok", d1: "ok", kv: "ok" } });
  });
});
