import { RequestError } from './errors';

/**
 * Optional protocol capabilities (protocol §1.1). A server lists the ones it supports in
 * `connected.features`; a client uses a capability only when its server listed it, so a client
 * and a server of different minor versions still work together. An absent list means none of them.
 *
 * - `presence`: `presence_subscribe` / `presence_unsubscribe` / `enter` / `leave` (channel members)
 * - `history`: the `history` request and `subscribe.recent` (last N messages, then live)
 *
 * Other capabilities are added to this list by name; unknown names are ignored by clients.
 */
export type Feature = 'presence' | 'history' | (string & {});

/**
 * Why a request needing `feature` cannot be made on this connection, or undefined when it can.
 * @param features what the server announced in `connected.features` (undefined: absent, i.e. none)
 * @param feature the capability the request needs
 * @returns a `RequestError` with code `unsupported` (context `{ feature }`), or undefined when supported
 */
export function missingFeature(features: readonly string[] | undefined, feature: Feature): RequestError | undefined {
  if (features?.includes(feature)) return undefined;
  return new RequestError('unsupported', `the server does not support "${feature}"`, { context: { feature } });
}

/** The last list {@link sameFeatures} handed out: every client of a process mostly talks to the same servers. */
let lastFeatures: readonly string[] = [];

/**
 * One shared array per distinct `connected.features` list: each `connected` frame parses its own,
 * and 1,000 idle clients of one server kept 1,000 copies (~80 B each, bench/idle-heap.ts).
 * @param features what the server announced (undefined: absent, i.e. none)
 * @returns an array with the same names in the same order, frozen, shared while the list stays the same
 */
export function sameFeatures(features: readonly string[] | undefined): readonly string[] {
  const list = features ?? [];
  const last = lastFeatures;
  if (list.length === last.length && list.every((name, i) => name === last[i])) return last;
  return (lastFeatures = Object.freeze([...list]));
}
