import type { IncomingMessage } from 'node:http';
import { PROTOCOL_VERSION, type ConnectedFrame } from '@tidewire/core/protocol';
import type { Clock, Timer } from './clock';
import { callHook } from './hookDeadline';
import type { AuthResult, Logger } from './hooks';
import type { ResolvedOptions } from './options';

/** setTimeout cannot wait longer than ~24.8 days (2^31 - 1 ms). */
const MAX_TIMER = 2 ** 31 - 1;

/** What running the `authenticate` hook needs. */
export interface AuthenticateHost {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Run the `authenticate` hook for a `connect` or a `refresh`, within `hookTimeout`.
 * @param user - the session's current user, passed on `refresh` only.
 * @returns the hook's answer; `{ user: null }` without a hook; null on refusal, including a
 *   throwing hook (logged): a broken auth hook must fail closed — so also an answer that is not
 *   an object with `user` (the user itself, `true`: logged); also null (logged) for an answer
 *   whose `expiresAt` is not a finite number of ms (a Date counts): it could become no valid
 *   `expiresIn` on the wire, nor an expiry timer; `'timed_out'` past the deadline (logged).
 */
export async function runAuthenticate(
  host: AuthenticateHost,
  request: IncomingMessage,
  token: string | undefined,
  reason: 'connect' | 'refresh',
  user: unknown,
): Promise<AuthResult | null | 'timed_out'> {
  const { options, clock, logger } = host;
  const { authenticate } = options;
  if (!authenticate) return { user: null };
  const ctx = { token, request, reason, ...(reason === 'refresh' && { user }) };
  const outcome = await callHook(() => authenticate(ctx), options.hookTimeout, clock);
  if (outcome.kind === 'answered') {
    const answer: unknown = outcome.value ?? null;
    if (answer === null || answer === false) return null;
    if (typeof answer !== 'object' || !('user' in answer)) {
      // The user itself instead of `{ user }`, or `true`: a broken hook, which fails closed.
      logger.error(`tidewire: authenticate() answered ${typeof answer === 'object' ? 'an object without `user`' : `a ${typeof answer}`} during ${reason}: refused (it must answer { user, expiresAt? }, or null to refuse)`);
      return null;
    }
    if (hasUsableExpiry((answer as AuthResult).expiresAt)) return answer as AuthResult;
    logger.error(`tidewire: authenticate() answered an expiresAt that is not a finite number of ms since the epoch during ${reason}: ${String((answer as AuthResult).expiresAt)}`);
    return null;
  }
  if (outcome.kind === 'timed_out') {
    logger.error(`tidewire: authenticate() did not answer within ${options.hookTimeout} ms during ${reason}`);
    return 'timed_out';
  }
  logger.error(`tidewire: authenticate() threw during ${reason}`, outcome.error);
  return null;
}

/**
 * Whether `expiresAt` works as an expiry: absent (`undefined`, or `null`, which the session treats
 * as already expired, as before), a finite number, or a Date (compared and subtracted as its ms).
 * NaN, an Infinity, a string or a BigInt would put `expiresIn: null` in a frame or throw mid-connect.
 */
function hasUsableExpiry(expiresAt: unknown): boolean {
  if (expiresAt === undefined || expiresAt === null) return true;
  return Number.isFinite(typeof expiresAt === 'number' ? expiresAt : expiresAt instanceof Date ? expiresAt.getTime() : NaN);
}

/** The token's expiry: calls `expired` once `expiresAt` (clock ms) has passed; re-armed by each refresh. */
export class ExpiryTimer {
  #timer: Timer | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly expired: () => void,
  ) {}

  /** Expire at `expiresAt` instead of any earlier arming; returns ms until then (undefined: no expiry). */
  arm(expiresAt: number | undefined): number | undefined {
    const { clock } = this;
    this.clear();
    if (expiresAt === undefined) return undefined;
    const check = (): void => {
      const left = expiresAt - clock.now();
      if (left <= 0) return this.expired();
      // setTimeout cannot wait longer than ~24.8 days; wait in steps.
      this.#timer = clock.setTimeout(check, Math.min(left, MAX_TIMER));
    };
    check();
    // A far-future expiry must still be an integer the protocol carries exactly.
    return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(expiresAt - clock.now())));
  }

  clear(): void {
    this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The `connected` frame that opens a session: protocol version, heartbeat (ms), maxPayload (bytes),
 * the rate limits, the server's `features`, and `expiresIn` (ms) when the token expires.
 */
export function connectedFrame(session: string, options: ResolvedOptions, expiresIn: number | undefined, features: string[]): ConnectedFrame {
  const { heartbeat, limits } = options;
  return {
    type: 'connected',
    v: PROTOCOL_VERSION,
    session,
    heartbeat,
    maxPayload: limits.maxPayload,
    ...(expiresIn !== undefined && { expiresIn }),
    // Whole frames: the wire carries integers; a fractional rate is announced rounded down (at least 1).
    limits: { rate: Math.max(1, Math.floor(limits.rate.perSecond)), burst: Math.max(1, Math.floor(limits.rate.burst)) },
    features,
  };
}
