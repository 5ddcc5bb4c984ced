import type { LogFields } from "../app-env";

/** Notes a degraded-but-served condition on the request's log line (KV fallback, limiter error). */
export function addWarning(fields: LogFields, message: string): void {
  fields.warnings = [...(fields.warnings ?? []), message];
}

/** Log lines outside the per-request line (startup problems, fail-open warnings). */
export function logWarning(msg: string, fields: Record<string, unknown> = {}): void {
  console.warn(JSON.stringify({ level: "warn", msg, ...fields }));
}
