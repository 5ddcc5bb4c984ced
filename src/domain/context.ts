import type { PublicCache } from "../cache/public-cache";
import type { Settings } from "../config";
import type { D1Bookmark } from "../db/bookmark";
import type { Db } from "../db/client";
import type { UserRecords } from "../user-record/client";

/** What the domain's operations work with, whichever HTTP surface called them. */
export type DomainContext = {
  db: Db;
  cache: PublicCache;
  /** The per-user records (session version, newest write): src/user-record/. */
  records: UserRecords;
  /** The D1 bookmark of this request's newest read or write (for a write made without a token). */
  bookmark: () => D1Bookmark | undefined;
  settings: Settings;
};
