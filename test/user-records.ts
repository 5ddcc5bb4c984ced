import { env } from "cloudflare:workers";

export type UserRecordMethod = "read" | "endSessions" | "recordWrite";
type Method = UserRecordMethod;

/**
 * The real USER_RECORDS namespace (Miniflare's Durable Objects), seen through a proxy that counts
 * each RPC by method and, for the methods `failing` names (a list, or a check made at each call),
 * refuses it instead (fault injection, as a Durable Object that cannot be reached would).
 */
export function userRecordsWith(failing: readonly Method[] | ((method: Method) => boolean) = []): {
  namespace: Cloudflare.Env["USER_RECORDS"];
  calls: Record<Method, number>;
} {
  const calls: Record<Method, number> = { read: 0, endSessions: 0, recordWrite: 0 };
  const real = env.USER_RECORDS;
  const namespace = new Proxy(real, {
    get(target, property) {
      if (property === "get") {
        return (id: DurableObjectId) => {
          const stub = target.get(id);
          return new Proxy(stub, {
            get(stubTarget, method) {
              if (method === "read" || method === "endSessions" || method === "recordWrite") {
                return (...args: unknown[]) => {
                  calls[method] += 1;
                  const refused = typeof failing === "function" ? failing(method) : failing.includes(method);
                  if (refused) return Promise.reject(new Error(`${method} refused (injected)`));
                  return (stubTarget[method] as (...a: unknown[]) => Promise<unknown>)(...args);
                };
              }
              const value = Reflect.get(stubTarget, method);
              return typeof value === "function" ? value.bind(stubTarget) : value;
            },
          });
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { namespace, calls };
}
