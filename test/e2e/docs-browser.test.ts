// /docs in a real headless Chromium (driven by playwright-core), against wrangler dev.
// No network beyond localhost: Swagger UI's files come from the Worker's static assets.
import { mkdirSync } from "node:fs";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "./browser";

const base = inject("baseUrl");

let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe("GET /docs in a browser", () => {
  it("renders the operations, authorises with a token and tries requests", async () => {
    if (!browser) throw new Error("browser did not start");
    const email = `docs-${Date.now()}@example.com`;
    const registered = await fetch(`${base}/v1/auth/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email, name: "Docs Reader", password: "docs password 1" }),
    });
    const { access_token: token } = (await registered.json()) as { access_token: string };

    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const offsite: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(base) && !request.url().startsWith("data:")) offsite.push(request.url());
    });
    await page.goto(`${base}/docs`);
    await page.locator(".opblock").first().waitFor({ timeout: 30_000 });

    const createPost = page.locator(".opblock-post", { hasText: "/v1/posts" }).first();
    await expect(createPost.isVisible()).resolves.toBe(true);
    expect(await page.locator(".opblock").count()).toBeGreaterThanOrEqual(20);
    // The RealWorld surface has its own tag, with its routes under /api.
    await expect(page.locator(".opblock-tag", { hasText: "conduit" }).first().isVisible()).resolves.toBe(true);
    await expect(
      page.locator(".opblock-get", { has: page.locator('[data-path="/api/articles/{slug}"]') }).count(),
    ).resolves.toBe(1);

    // Try it out (enabled by default in docs-init.js): GET /health → 200
    const health = page.locator(".opblock-get", { has: page.locator('[data-path="/health"]') }).first();
    await health.locator(".opblock-summary").click();
    await health.getByRole("button", { name: "Execute" }).click();
    await expect(
      health.locator(".live-responses-table tr.response .response-col_status").first().textContent({ timeout: 15_000 }),
    ).resolves.toContain("200");

    // Authorise with a bearer token, then GET /v1/users/me → 200
    await page
      .getByRole("button", { name: /Authorize/ })
      .first()
      .click();
    // Two schemes: /v1's bearer token and the RealWorld surface's `Token <jwt>` header.
    const bearer = page.locator(".modal-ux .auth-container", { hasText: "bearerAuth" });
    await bearer.locator("input[type=text]").fill(token);
    await bearer.locator("button.authorize").click();
    await page.locator(".modal-ux button.btn-done").first().click();
    const me = page.locator(".opblock-get", { has: page.locator('[data-path="/v1/users/me"]') }).first();
    await me.locator(".opblock-summary").click();
    await me.getByRole("button", { name: "Execute" }).click();
    await expect(
      me.locator(".live-responses-table tr.response .response-col_status").first().textContent({ timeout: 15_000 }),
    ).resolves.toContain("200");
    await expect(me.locator(".live-responses-table").first().textContent()).resolves.toContain(email);

    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/docs.png", fullPage: false });
    expect(offsite).toEqual([]);
    await page.close();
  });
});
