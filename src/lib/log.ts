/** Log lines outside the per-request line (startup problems, fail-open warnings). */
export function logWarning(msg: string, fields: Record<string, unknown> = {}): void {
  console.warn(JSON.stringify({ level: "warn", msg, ...fields }));
}
