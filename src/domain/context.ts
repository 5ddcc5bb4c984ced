import type { PublicCache } from "../cache/public-cache";
import type { Settings } from "../config";
import type { Db } from "../db/client";
import type { UserRecords } from "../user-record/client";

/** What the domain's operations work with, whichever HTTP surface called them. */
export type DomainContext = {
  db: Db;
  cache: PublicCache;
  /** The per-user records (session version, newest write): src/user-record/. */
  records: UserRecords;
  settings: Settings;
};
