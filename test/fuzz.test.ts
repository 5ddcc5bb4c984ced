import { it } from "vitest";

it("probe", async () => {
  const p = (globalThis as Record<string, unknown>).process as { env?: Record<string, string> } | undefined;
  console.log("keys", JSON.stringify(Object.keys(p?.env ?? {})));
  console.log(
    "meta",
    JSON.stringify(Object.keys((import.meta as unknown as { env?: Record<string, unknown> }).env ?? {})),
  );
});
