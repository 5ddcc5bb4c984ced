import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./app-env";
import { ApiError, errorBody, InternalError, PayloadTooLargeError, ValidationError } from "./errors";

/** Hono's own exceptions (from its built-in middleware) mapped onto the contract's types. */
function fromHttpException(error: HTTPException): ApiError {
  if (error.status === 413) return new PayloadTooLargeError(0);
  if (error.status === 400) return new ValidationError(error.message || "Bad request", []);
  return new InternalError();
}

/**
 * The one place error JSON is built. Known errors render as themselves; anything else is a
 * generic 500 whose stack goes to the log only.
 */
export const renderError: ErrorHandler<AppEnv> = (error, c) => {
  const apiError =
    error instanceof ApiError ? error : error instanceof HTTPException ? fromHttpException(error) : new InternalError();
  const log = c.get("log");
  if (log) {
    log.error = {
      type: apiError.type,
      ...(apiError.status >= 500 ? { message: error.message, stack: error.stack } : {}),
    };
  }
  for (const [name, value] of Object.entries(apiError.headers)) c.header(name, value);
  if (c.req.method === "HEAD") return c.body(null, apiError.status);
  return c.json(errorBody(apiError, c.get("requestId") ?? "unknown"), apiError.status);
};
