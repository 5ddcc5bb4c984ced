import { retiredByFollow, writeThenRetire } from "../cache/invalidation";
import { addFollow, findProfile, type ProfileRow, removeFollow } from "../db/profiles";
import { NotFoundError, ValidationError } from "../errors";
import { isoNow } from "../lib/ids";
import type { DomainContext } from "./context";
import { writeReferencing } from "./referencing-writes";
import { type Actor, type UserActor, viewerIdOf } from "./vocabulary";

/**
 * Profiles and follows. Following is personal (it changes nothing anyone else sees), so it
 * retires no shared entry, only the follower's own freshness; any signed-in user may follow,
 * guests included.
 */

function profileNotFound(handle: string): NotFoundError {
  return new NotFoundError("Profile not found", { resource: "profile", username: handle });
}

export async function findProfileOf(ctx: DomainContext, actor: Actor, handle: string): Promise<ProfileRow> {
  const profile = await findProfile(ctx.db, handle, viewerIdOf(actor));
  if (!profile) throw profileNotFound(handle);
  return profile;
}

async function setFollow(ctx: DomainContext, user: UserActor, handle: string, follow: boolean) {
  const profile = await findProfileOf(ctx, user, handle);
  if (profile.id === user.id) {
    throw new ValidationError("You cannot follow yourself", [{ path: "username", message: "is your own" }]);
  }
  const write = () =>
    follow ? addFollow(ctx.db, user.id, profile.id, isoNow()) : removeFollow(ctx.db, user.id, profile.id);
  await writeReferencing(
    ctx,
    user,
    () => writeThenRetire(ctx.cache, write, () => retiredByFollow(user.id)),
    () => profileNotFound(handle),
  );
  return { ...profile, following: follow ? 1 : 0 };
}

export const followProfile = (ctx: DomainContext, user: UserActor, handle: string) =>
  setFollow(ctx, user, handle, true);
export const unfollowProfile = (ctx: DomainContext, user: UserActor, handle: string) =>
  setFollow(ctx, user, handle, false);
