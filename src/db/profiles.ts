import { and, eq } from "drizzle-orm";
import { handleOf, isFollowing, userIdByHandle } from "./articles";
import type { Db } from "./client";
import { follows, users } from "./schema";

/** A user as the RealWorld surface shows them, to one viewer. */
export type ProfileRow = { id: string; handle: string; bio: string | null; image: string | null; following: number };

export const findProfileQuery = (db: Db, handle: string, viewerId: string | undefined) =>
  db
    .select({
      id: users.id,
      handle: handleOf.as("handle"),
      bio: users.bio,
      image: users.image,
      following: isFollowing(viewerId, users.id).as("following"),
    })
    .from(users)
    .where(eq(users.id, userIdByHandle(handle)))
    .limit(1);

export async function findProfile(
  db: Db,
  handle: string,
  viewerId: string | undefined,
): Promise<ProfileRow | undefined> {
  return (await findProfileQuery(db, handle, viewerId))[0];
}

export async function addFollow(db: Db, followerId: string, followeeId: string, now: string): Promise<void> {
  await db.insert(follows).values({ followerId, followeeId, createdAt: now }).onConflictDoNothing();
}

export async function removeFollow(db: Db, followerId: string, followeeId: string): Promise<void> {
  await db.delete(follows).where(and(eq(follows.followerId, followerId), eq(follows.followeeId, followeeId)));
}
