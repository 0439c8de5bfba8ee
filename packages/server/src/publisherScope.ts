import { createHash } from 'node:crypto';

/**
 * Dedupe scopes (see `PublishInput.scope`): the server's own publishes share one; each client user
 * has its own, derived from the `user` its `authenticate` returned — so a client's retry (the same
 * user, the same id) is deduplicated, and no client can claim another publisher's id first. Clients
 * without a user (anonymous) share one scope, as they share one identity.
 */
export const SERVER_SCOPE = 's';

/** One scope per user object: computed once per session (and again after a refresh changes the user), not per publish. */
const scopes = new WeakMap<object, string>();

/** @returns the dedupe scope of the client publishes of `user` */
export function clientScope(user: unknown): string {
  if (typeof user !== 'object' || user === null) return scopeOf(user);
  let scope = scopes.get(user);
  if (scope === undefined) scopes.set(user, (scope = scopeOf(user)));
  return scope;
}

/** A short user as it is (`c:"alice"`), a long one as a digest (scopes are part of every dedupe key, in Redis too). */
function scopeOf(user: unknown): string {
  const text = JSON.stringify(user) ?? 'null';
  return text.length <= 40 ? `c:${text}` : `c#${createHash('sha256').update(text).digest('base64url')}`;
}
