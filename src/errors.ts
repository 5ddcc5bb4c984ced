import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorDetails = Record<string, unknown>;
export type ValidationIssue = { path: string; message: string };

/** Base of every error the API renders on purpose. `type` is the contract's error name. */
export abstract class ApiError extends Error {
  abstract readonly status: ContentfulStatusCode;
  abstract readonly type: string;
  /** Always an object (`{}` when there is nothing to add): the contract never omits it. */
  readonly details: ErrorDetails;
  /** Extra response headers the status requires (`Allow`, `Retry-After`, ...). */
  readonly headers: Record<string, string>;

  constructor(message: string, details?: ErrorDetails, headers: Record<string, string> = {}) {
    super(message);
    this.details = details ?? {};
    this.headers = headers;
  }
}

export class ValidationError extends ApiError {
  readonly status = 400;
  readonly type = "ValidationError";
  constructor(message: string, issues: ValidationIssue[]) {
    super(message, { issues });
  }
}

export class AuthenticationError extends ApiError {
  readonly status = 401;
  readonly type = "AuthenticationError";
  constructor(message = "Authentication required") {
    super(message, undefined, { "WWW-Authenticate": 'Bearer realm="edge-posts-api"' });
  }
}

export class PermissionError extends ApiError {
  readonly status = 403;
  readonly type = "PermissionError";
  constructor(message = "You do not have permission to do this", details?: ErrorDetails) {
    super(message, details);
  }
}

export class NotFoundError extends ApiError {
  readonly status = 404;
  readonly type = "NotFoundError";
  static resource(resource: "post" | "user", id: string): NotFoundError {
    const label = resource === "post" ? "Post" : "User";
    return new NotFoundError(`${label} with id ${id} not found`, { resource, id });
  }
}

export class MethodNotAllowedError extends ApiError {
  readonly status = 405;
  readonly type = "MethodNotAllowedError";
  constructor(method: string, allowed: string[]) {
    super(`Method ${method} is not allowed here`, { allowed }, { Allow: allowed.join(", ") });
  }
}

export class ConflictError extends ApiError {
  readonly status = 409;
  readonly type = "ConflictError";
}

export class PreconditionFailedError extends ApiError {
  readonly status = 412;
  readonly type = "PreconditionFailedError";
}

export class PayloadTooLargeError extends ApiError {
  readonly status = 413;
  readonly type = "PayloadTooLargeError";
  constructor(limitBytes: number) {
    super(`Request body is larger than ${limitBytes} bytes`, { limit_bytes: limitBytes });
  }
}

export class UnsupportedMediaTypeError extends ApiError {
  readonly status = 415;
  readonly type = "UnsupportedMediaTypeError";
  constructor() {
    super("Request body must be JSON (Content-Type: application/json)");
  }
}

export class RateLimitError extends ApiError {
  readonly status = 429;
  readonly type = "RateLimitError";
  constructor(retryAfterSeconds: number) {
    super(
      "Too many requests, try again later",
      { retry_after_seconds: retryAfterSeconds },
      {
        "Retry-After": String(retryAfterSeconds),
      },
    );
  }
}

export class InternalError extends ApiError {
  readonly status = 500;
  readonly type = "InternalError";
  constructor() {
    super("Internal server error");
  }
}

export class ServiceUnavailableError extends ApiError {
  readonly status = 503;
  readonly type = "ServiceUnavailableError";
}

/** The contract's error envelope. */
export type ErrorBody = {
  error: string;
  type: string;
  details: ErrorDetails;
  request_id: string;
};

export function errorBody(error: ApiError, requestId: string): ErrorBody {
  return {
    error: error.message,
    type: error.type,
    details: error.details,
    request_id: requestId,
  };
}

/**
 * The RealWorld surface's error shape, `{"errors": {"body": [...]}}`. Its spec answers every
 * validation failure, and a taken email or username, with 422; other statuses stay as they are.
 */
export type ConduitErrorBody = { errors: { body: string[] } };

export function conduitError(error: ApiError): { status: ContentfulStatusCode; body: ConduitErrorBody } {
  if (error instanceof ValidationError) {
    const issues = (error.details.issues ?? []) as ValidationIssue[];
    const messages = issues.map((issue) => (issue.path ? `${issue.path} ${issue.message}` : issue.message));
    return { status: 422, body: { errors: { body: messages.length > 0 ? messages : [error.message] } } };
  }
  if (error instanceof ConflictError && typeof error.details.field === "string") {
    return { status: 422, body: { errors: { body: [`${error.details.field} has already been taken`] } } };
  }
  return { status: error.status, body: { errors: { body: [error.message] } } };
}
