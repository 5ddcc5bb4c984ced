import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import { ApiError, conduitError, errorBody, InternalError, ValidationError } from "./errors";

/** Requests of the RealWorld surface get its error shape; the two surfaces never mix envelopes. */
export const CONDUIT_PREFIX = "/api";
export const isConduitPath = (path: string) => path === CONDUIT_PREFIX || path.startsWith(`${CONDUIT_PREFIX}/`);

/** Hono's own exceptions (its validator's 400s) mapped onto the contract's types. */
function fromHttpException(error: HTTPException): ApiError {
  return error.status === 400 ? new ValidationError(error.message || "Bad request", []) : new InternalError();
}

/** The first ApiError in the cause chain: Drizzle wraps driver errors (ours included) in its own. */
function findApiError(error: unknown): ApiError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof ApiError) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * What a 500 may put in the log: the message without bound query parameters (Drizzle appends
 * `params: …`, which can hold emails or password hashes) and the stack frames without the message.
 */
function forLog(error: Error): { message: string; stack: string | undefined } {
  const redact = (text: string) => text.replace(/\nparams:[\s\S]*$/, "\nparams: [redacted]");
  const cause = error.cause instanceof Error ? ` (cause: ${redact(error.cause.message)})` : "";
  const frames = error.stack
    ?.split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .join("\n");
  return { message: `${error.name}: ${redact(error.message)}${cause}`, stack: frames };
}

/**
 * The one place error JSON is built. Known errors render as themselves; anything else is a
 * generic 500 whose (redacted) stack goes to the log only.
 */
export const renderError: ErrorHandler<AppEnv> = (error, c) => {
  const apiError =
    findApiError(error) ?? (error instanceof HTTPException ? fromHttpException(error) : new InternalError());
  const log = c.get("log");
  if (log) {
    log.error = { type: apiError.type, ...(apiError.status >= 500 ? forLog(error) : {}) };
  }
  for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
  if (isConduitPath(c.req.path)) {
    const { status, body } = conduitError(apiError);
    if (status === 401) c.header("WWW-Authenticate", 'Token realm="edge-posts-api"');
    return c.req.method === "HEAD" ? c.body(null, status) : c.json(body, status);
  }
  if (c.req.method === "HEAD") return c.body(null, apiError.status);
  return c.json(errorBody(apiError, c.get("requestId") ?? "unknown"), apiError.status);
};
