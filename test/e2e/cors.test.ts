// CORS under `npm run dev` (wrangler.toml's top-level CORS_ORIGINS): a RealWorld frontend's dev or
// preview server on the usual ports, on localhost or 127.0.0.1, gets its preflight answered the
// first time; any other origin does not.
import { describe, expect, inject, it } from "vitest";

const base = inject("baseUrl");
const FRONTEND_PORTS = [3000, 4173, 4200, 5173, 8080];
const ALLOWED = ["localhost", "127.0.0.1"].flatMap((host) => FRONTEND_PORTS.map((port) => `http://${host}:${port}`));

/** A browser's preflight before a RealWorld frontend's `PUT /api/user` with its token. */
function preflight(origin: string) {
  return fetch(`${base}/api/user`, {
    method: "OPTIONS",
    headers: {
      Origin: origin,
      "Access-Control-Request-Method": "PUT",
      "Access-Control-Request-Headers": "authorization, content-type",
    },
  });
}

describe("CORS for local frontends", () => {
  it("answers a preflight from a Vite preview (127.0.0.1:4173) and an Angular dev server (localhost:4200)", async () => {
    for (const origin of ["http://127.0.0.1:4173", "http://localhost:4200"]) {
      const response = await preflight(origin);
      expect(response.status, origin).toBe(204);
      expect(response.headers.get("Access-Control-Allow-Origin"), origin).toBe(origin);
      expect(response.headers.get("Access-Control-Allow-Methods"), origin).toContain("PUT");
      expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase(), origin).toContain("authorization");
    }
  });

  it("answers every usual frontend port on localhost and 127.0.0.1, and a simple request's errors too", async () => {
    for (const origin of ALLOWED) {
      expect((await preflight(origin)).headers.get("Access-Control-Allow-Origin"), origin).toBe(origin);
    }
    const unauthenticated = await fetch(`${base}/api/user`, { headers: { Origin: "http://127.0.0.1:4173" } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get("Access-Control-Allow-Origin")).toBe("http://127.0.0.1:4173");
  });

  it("does not allow an origin outside the list (another port, another host, https)", async () => {
    for (const origin of [
      "http://localhost:4201",
      "http://127.0.0.1:9999",
      "http://0.0.0.0:5173",
      "https://localhost:5173",
      "https://evil.example",
    ]) {
      const response = await preflight(origin);
      // What a browser decides by (Hono's cors() still lists its methods).
      expect(response.headers.get("Access-Control-Allow-Origin"), origin).toBeNull();
    }
  });
});
