import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { MethodNotAllowedError, NotFoundError } from "../errors";
import { endpointsOf } from "../lib/endpoints";

type RouteTable = { path: string; pattern: RegExp; methods: Set<string> }[];

const tables = new WeakMap<object, RouteTable>();

function compile(app: Hono<AppEnv>): RouteTable {
  const byPath = new Map<string, Set<string>>();
  for (const { method, path } of endpointsOf(app)) {
    const methods = byPath.get(path) ?? new Set<string>();
    methods.add(method);
    if (method === "GET") methods.add("HEAD");
    byPath.set(path, methods);
  }
  return [...byPath].map(([path, methods]) => ({
    path,
    pattern: new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z_]+/g, "[^/]+")}$`),
    methods,
  }));
}

function routesMatching(app: Hono<AppEnv>, path: string): RouteTable {
  let table = tables.get(app);
  if (!table) {
    table = compile(app);
    tables.set(app, table);
  }
  return table.filter((route) => route.pattern.test(path));
}

/** Whether some route of `app` serves `path`, with any method: the table the guard decides 404 by. */
export function knowsPath(app: Hono<AppEnv>, path: string): boolean {
  return routesMatching(app, path).length > 0;
}

/**
 * Decides 404 and 405 (with `Allow`) before authentication, configuration or body parsing run,
 * so an unknown route or a wrong method never costs a token check or reveals anything else.
 */
export function routeGuard(getApp: () => Hono<AppEnv>) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const matches = routesMatching(getApp(), c.req.path);
    c.var.log.route = matches[0]?.path;
    if (matches.length === 0) throw new NotFoundError(`No route for ${c.req.method} ${c.req.path.slice(0, 200)}`);
    const allowed = new Set(matches.flatMap((route) => [...route.methods]));
    if (!allowed.has(c.req.method)) {
      throw new MethodNotAllowedError(c.req.method, [...allowed].sort());
    }
    await next();
  });
}
