import { describe, expect, it } from "vitest";
import { api, expectError, json } from "./helpers";

describe("GET /health", () => {
  it("answers without touching storage", async () => {
    const response = await api("/health");
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ok" });
    expect(response.headers.get("X-Request-Id")).toBeTruthy();
  });
});

describe("GET /health/ready", () => {
  it("reports config, D1 and KV as ok", async () => {
    const response = await api("/health/ready");
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: "ok", checks: { config: "ok", d1: "ok", kv: "ok" } });
  });
});

describe("unknown routes", () => {
  it("404s outside /v1", async () => {
    await expectError(await api("/nope"), 404, "NotFoundError");
  });
});
