import { zValidator } from "@hono/zod-validator";
import type { ValidationTargets } from "hono";
import type { $ZodIssue, $ZodType } from "zod/v4/core";
import { ValidationError, type ValidationIssue } from "../errors";
import { annotate } from "../openapi/annotations";

const TARGET_LABEL: Record<keyof ValidationTargets, string> = {
  json: "body",
  query: "query string",
  param: "path parameter",
  header: "header",
  cookie: "cookie",
  form: "form",
};

/** Flattens zod issues into the contract's `{path, message}` list; unknown keys name the field. */
export function toValidationIssues(error: { issues: readonly $ZodIssue[] }): ValidationIssue[] {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ path: [...base, key].join("."), message: "Unknown field" }));
    }
    return [{ path: base.join("."), message: issue.message }];
  });
}

/**
 * `zValidator` with the one error rendering: a failure throws `ValidationError`, which the app's
 * `onError` turns into the contract's envelope. The schema is also recorded for the OpenAPI
 * document.
 */
export function validate<Target extends keyof ValidationTargets, Schema extends $ZodType>(
  target: Target,
  schema: Schema,
) {
  const middleware = zValidator(target, schema, (result) => {
    if (!result.success) {
      const issues = toValidationIssues(result.error);
      const fields = [...new Set(issues.map((issue) => issue.path || "(root)"))].join(", ");
      throw new ValidationError(`Invalid ${TARGET_LABEL[target]}: ${fields}`, issues);
    }
  });
  if (target === "json" || target === "query" || target === "param" || target === "header") {
    annotate(middleware, { kind: "request", part: { target, schema } });
  }
  return middleware;
}
