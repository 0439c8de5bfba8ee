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
