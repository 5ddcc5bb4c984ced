import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { AccountDeps } from "../domain/account-recovery";

/** What the account flows (src/domain/account-recovery.ts, accounts.ts) use of this request. */
export function accountDeps<E extends AppEnv>(c: Context<E>): AccountDeps {
  // Every E here extends AppEnv, so its variables hold AppEnv's.
  const { domain, requestId } = c.var as AppEnv["Variables"];
  return {
    ...domain,
    mailer: c.env.EMAIL,
    waitUntil: (promise) => c.executionCtx.waitUntil(promise),
    requestId,
  };
}
