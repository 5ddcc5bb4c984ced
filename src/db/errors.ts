/** D1 reports constraint violations only through the message text. */
export function isUniqueViolation(error: unknown): boolean {
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return message.includes("UNIQUE constraint failed") || message.includes("SQLITE_CONSTRAINT");
}

/** A row this write points at (its user, post or followee) is gone: deleted meanwhile. */
export function isForeignKeyViolation(error: unknown): boolean {
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
  return message.includes("FOREIGN KEY constraint failed");
}
