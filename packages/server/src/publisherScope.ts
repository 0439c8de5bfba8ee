/**
 * Dedupe scopes (see `PublishInput.scope`): the server's own publishes share one; client publishes
 * another — one per user when the `user` its `authenticate` returned carries a stable identity (an
 * `id`, or a JWT's `sub`), so no client can claim another user's id first. Only an identity that
 * stays the same across reconnects and token refreshes will do: a retry on a new connection must
 * land in the same scope, so a user that is the token itself, or claims with `iat`/`exp`, is never
 * taken whole. Users without such a field (anonymous, a plain value) share the clients' one scope.
 */
export const SERVER_SCOPE = 's';
const CLIENTS = 'c';

/** @returns the dedupe scope of the client publishes of `user`; never throws (a hostile getter or proxy gives the shared one) */
export function clientScope(user: unknown): string {
  if (typeof user !== 'object' || user === null) return CLIENTS;
  try {
    const { id, sub } = user as { id?: unknown; sub?: unknown };
    const identity = id ?? sub;
    return typeof identity === 'string' || typeof identity === 'number' || typeof identity === 'bigint' ? `${CLIENTS}:${typeof identity}:${String(identity)}` : CLIENTS;
  } catch {
    return CLIENTS;
  }
}
