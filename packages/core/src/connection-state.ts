import type { TidewireError } from './errors';
import type { TransportName } from './transport';

/** Why the current transport is the one in use (shown in snapshots and metrics). */
export type TransportReason = 'preferred' | 'fallback' | 'remembered' | 'upgraded';

/**
 * The connection lifecycle as a discriminated union. Each state carries only what
 * is true in it; the optional `undefined` fields exist so `const { transport } = snapshot`
 * type-checks in bindings without narrowing.
 *
 *   idle ─connect→ connecting ─first frame→ connected ─lost→ reconnecting ─timer→ connecting …
 *   any ─close()→ closed        any ─fatal error→ failed        closed/failed ─connect()→ connecting
 */
export type ConnectionSnapshot =
  | { readonly state: 'idle'; readonly transport?: undefined; readonly attempt?: undefined; readonly error?: undefined }
  | {
      readonly state: 'connecting';
      readonly transport: TransportName;
      readonly transportReason: TransportReason;
      readonly attempt: number;
      readonly error?: undefined;
    }
  | {
      readonly state: 'connected';
      readonly transport: TransportName;
      readonly transportReason: TransportReason;
      readonly session: string;
      readonly attempt?: undefined;
      readonly error?: undefined;
    }
  | {
      readonly state: 'reconnecting';
      readonly transport: TransportName;
      readonly attempt: number;
      /** Milliseconds until the next attempt. */
      readonly retryIn: number;
      readonly error: TidewireError;
    }
  | { readonly state: 'closed'; readonly transport?: undefined; readonly attempt?: undefined; readonly error?: undefined }
  | { readonly state: 'failed'; readonly transport?: undefined; readonly attempt?: undefined; readonly error: TidewireError };

/** `'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed' | 'failed'` (see docs/client.md for the transitions). */
export type ConnectionStateName = ConnectionSnapshot['state'];

/** Emitted on every transition, from the single function that performs them. */
export interface StateChange {
  readonly from: ConnectionSnapshot;
  readonly to: ConnectionSnapshot;
  readonly reason: string;
}
