import type { LogFields } from "../app-env";

/** Notes a degraded-but-served condition on the request's log line (KV fallback, limiter error). */
export function addWarning(fields: LogFields, message: string): void {
  fields.warnings = [...(fields.warnings ?? []), message];
}

/** Log lines outside the per-request line (startup problems, fail-open warnings). */
export function logWarning(msg: string, fields: Record<string, unknown> = {}): void {
  console.warn(JSON.stringify({ level: "warn", msg, ...fields }));
}

/**
 * An error's message fit for a log line that may sit next to secrets: D1's own message rather
 * than Drizzle's wrapper (which repeats the bound parameters), long base64url or hex runs
 * (tokens, hashes) redacted, at most 300 characters.
 */
export function loggableError(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.replace(/[A-Za-z0-9_-]{32,}/g, "[redacted]").slice(0, 300);
}
