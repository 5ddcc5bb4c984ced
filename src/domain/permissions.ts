import { PermissionError } from "../errors";
import type { Actor, PostStatus, Role } from "./vocabulary";

/** Everything a role may be allowed to do. `:any` actions apply to resources of other users. */
export type Action =
  | "post:create"
  | "post:update:own"
  | "post:update:any"
  | "post:delete"
  | "comment:create"
  | "comment:delete:any"
  | "user:read:full"
  | "user:list"
  | "user:manage";

/** The contract's role table (API.md §2), as data. */
const ROLE_ACTIONS: Record<Role, ReadonlySet<Action>> = {
  admin: new Set<Action>([
    "post:create",
    "post:update:own",
    "post:update:any",
    "post:delete",
    "comment:create",
    "comment:delete:any",
    "user:read:full",
    "user:list",
    "user:manage",
  ]),
  user: new Set<Action>(["post:create", "post:update:own", "comment:create"]),
  guest: new Set<Action>(),
};

/** Whether the actor's role allows the action. Anonymous callers may do none of these. */
export function can(actor: Actor, action: Action): boolean {
  return actor.kind === "user" && ROLE_ACTIONS[actor.role].has(action);
}

/** The one authorisation check handlers make: 403 unless the role allows the action. */
export function authorize(actor: Actor, action: Action, message?: string): void {
  if (!can(actor, action)) throw new PermissionError(message);
}

/** Editing a post: one's own needs `post:update:own`, anyone else's `post:update:any`. */
export function editAction(actor: Actor, post: { authorId: string }): Action {
  return actor.kind === "user" && post.authorId === actor.id ? "post:update:own" : "post:update:any";
}

/**
 * Which posts an actor may see: published ones, its own in any status, and everything for an
 * admin. Single reads use `canSeePost`; lists turn the same scope into SQL (db/posts.ts).
 */
export type PostScope = { kind: "all" } | { kind: "published-or-own"; userId: string } | { kind: "published" };

export function postScope(actor: Actor): PostScope {
  if (actor.kind === "anonymous") return { kind: "published" };
  if (actor.role === "admin") return { kind: "all" };
  return { kind: "published-or-own", userId: actor.id };
}

export function canSeePost(actor: Actor, post: { authorId: string; status: PostStatus }): boolean {
  const scope = postScope(actor);
  switch (scope.kind) {
    case "all":
      return true;
    case "published-or-own":
      return post.status === "published" || post.authorId === scope.userId;
    case "published":
      return post.status === "published";
  }
}
