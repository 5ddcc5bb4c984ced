import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { newId } from "../lib/ids";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's `X-Request-Id` when it is a sane token, else makes one; echoes it back. */
export const requestId = createMiddleware<AppEnv>(async (c, next) => {
  const incoming = c.req.header("X-Request-Id");
  const id = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : newId();
  c.set("requestId", id);
  await next();
  c.header("X-Request-Id", id);
});
