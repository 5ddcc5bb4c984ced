import type { PublicCache } from "../cache/public-cache";
import type { Settings } from "../config";
import type { Db } from "../db/client";

/** What the domain's operations work with, whichever HTTP surface called them. */
export type DomainContext = {
  db: Db;
  cache: PublicCache;
  /** For revocation markers. */
  kv: KVNamespace;
  settings: Settings;
};
