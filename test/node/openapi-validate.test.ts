// Validates the built document (what GET /openapi.json serves) with a real OpenAPI validator
// (swagger-parser), in Node, and checks it against the generator run over the current code.

import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { buildOpenApiDocument } from "../../src/openapi/document";

/** What scripts/build-openapi.mjs wrote before the tests, served as a static asset. */
const OPENAPI_JSON = readFileSync(new URL("../../public/openapi.json", import.meta.url), "utf8");

describe("OpenAPI document", () => {
  it("is exactly what the generator builds from the current routes and schemas (rebuild: npm test)", () => {
    expect(OPENAPI_JSON).toBe(JSON.stringify(buildOpenApiDocument(app)));
  });

  it("is a valid OpenAPI 3.1 document", async () => {
    const document = JSON.parse(OPENAPI_JSON);
    const validated = (await SwaggerParser.validate(structuredClone(document) as never)) as {
      openapi?: string;
      paths?: object;
    };
    expect(validated.openapi).toBe("3.1.0");
    expect(Object.keys(validated.paths ?? {}).length).toBeGreaterThanOrEqual(12);
  });

  it("fails validation when broken (the check has teeth)", async () => {
    const document = structuredClone(buildOpenApiDocument(app)) as { paths: Record<string, unknown> };
    document.paths["/v1/posts"] = { get: { responses: "not-an-object" } };
    await expect(SwaggerParser.validate(document as never)).rejects.toThrow();
  });
});
