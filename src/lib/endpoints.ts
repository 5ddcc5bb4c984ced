import type { Hono } from "hono";
import type { AppEnv } from "../app-env";

/** One endpoint: a method and path, with every handler Hono runs for it (middleware included). */
export type Endpoint = { method: string; path: string; handlers: unknown[] };

/**
 * The app's endpoints, from Hono's own route list: the one definition shared by the 404/405
 * route guard and the OpenAPI document. `ALL` entries are middleware, not endpoints.
 */
export function endpointsOf(app: Hono<AppEnv>): Endpoint[] {
  const byKey = new Map<string, Endpoint>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    const endpoint = byKey.get(key) ?? { method: route.method, path: route.path, handlers: [] };
    endpoint.handlers.push(route.handler);
    byKey.set(key, endpoint);
  }
  return [...byKey.values()];
}
