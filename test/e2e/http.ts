import { inject } from "vitest";

/** What the e2e files read of an answer: status, headers, the raw text and the parsed JSON (or `{}`). */
export type Answer = { status: number; headers: Headers; text: string; body: Record<string, unknown> };

export type CallInit = { method?: string; body?: unknown; token?: string; scheme?: "Bearer" | "Token" };

/**
 * One request to the dev server that global-setup.ts starts, through its recording proxy (so the
 * answer is checked against /openapi.json): objects go as JSON, `token` as `Authorization`
 * (`Bearer` unless `scheme` says `Token`, the RealWorld scheme).
 */
export async function call(path: string, init: CallInit = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  if (init.token) headers.Authorization = `${init.scheme ?? "Bearer"} ${init.token}`;
  const response = await fetch(`${inject("baseUrl")}${path}`, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}
