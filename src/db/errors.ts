/** D1 reports constraint violations only through the message text (its own, or its cause's). */
function constraintText(error: unknown): string {
  return error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : "";
}

/** A row this write points at (its user, post or followee) is gone: deleted meanwhile. */
export function isForeignKeyViolation(error: unknown): boolean {
  return constraintText(error).includes("FOREIGN KEY constraint failed");
}

/** A unique index or primary key refused the write (not a foreign key, which is also a constraint). */
export function isUniqueViolation(error: unknown): boolean {
  const text = constraintText(error);
  return (
    (text.includes("UNIQUE constraint failed") || text.includes("SQLITE_CONSTRAINT")) && !isForeignKeyViolation(error)
  );
}

/** Which unique field of `users` a failed write collided on, if it was one a user chooses. */
export function takenUserField(error: unknown): "email" | "username" | undefined {
  if (!isUniqueViolation(error)) return undefined;
  // The username index is on lower(username): D1 names it, not the column.
  return constraintText(error).includes("username") ? "username" : "email";
}
