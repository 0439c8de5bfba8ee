import type { Position } from '@tidewire/core/protocol';
import type { Broker, BrokerMessage } from './broker/broker';
import type { Logger } from './hooks';
import { callApp } from './appCall';

/** One message as an in-process subscriber sees it: the channel, the publish `id`, its position and `data`. */
export interface ServerChannelMessage {
  readonly channel: string;
  /** The publisher's id (a client's message id, or the server publish's `id`). */
  readonly id: string;
  readonly epoch: string;
  /** Consecutive from 1 within an epoch. */
  readonly offset: number;
  readonly data: unknown;
}

/**
 * Called once per message, in offset order. A throw — or, for an `async` listener, a rejection — is
 * logged and delivery goes on. Not awaited: the next message does not wait for the promise.
 */
// `void`, not `void | Promise<void>`: an async function is assignable to it, and so is one that
// returns something (`(m) => list.push(m)`), which the union would refuse.
export type ServerMessageListener = (message: ServerChannelMessage) => void;

/** Options of `server.subscribe`. */
export interface ServerSubscribeOptions {
  /**
   * Resume after this position (e.g. the last one a previous run of the service handled): every
   * stored message after it is delivered first, in order, then live ones. Default: live only.
   */
  since?: Position;
  /**
   * Called when messages are lost to this subscription, before the first message after them:
   * - at the start, when `since` was given and history cannot cover everything after it (evicted,
   *   or the channel restarted with a new epoch);
   * - later, when the broker skips offsets it no longer has (the Redis broker: trimmed, or lost with
   *   Redis — docs/scaling.md) or the channel's epoch changes (Redis flushed or restarted empty).
   * A throw (or a rejection, when it is `async`) is logged and delivery goes on.
   */
  onGap?: (info: ServerGapInfo) => void;
}

/**
 * What `onGap` is told: delivery continues after `epoch`/`offset` (the next message is the one after
 * it); what lies between `from` and there is lost. The same terms as the client's `gap` event.
 */
export interface ServerGapInfo {
  readonly epoch: string;
  readonly offset: number;
  /** The last position delivered (or `since`) before the gap. */
  readonly from: Position;
  /** `epoch_changed`: the channel's stream restarted; `history_exhausted`: offsets are gone from history. */
  readonly reason: 'epoch_changed' | 'history_exhausted';
}

/** What `server.subscribe` resolves with: where the stream continues, and `unsubscribe()`. */
export interface ServerSubscription {
  /** The position the stream continues after. */
  readonly epoch: string;
  readonly offset: number;
  /** False when `since` could not be bridged (then `onGap` was called). */
  readonly recovered: boolean;
  /** Stop delivery at once (no listener call after it returns). Idempotent. */
  unsubscribe(): void;
}

/**
 * Subscribe a function in this process to a channel, with the clients' contract: each message
 * once, in offset order — the replay after `since` first, then live messages, which the broker may
 * start delivering before the replay is known (they are held and deduplicated by position) — and
 * never a silent hole: a message that does not follow the last one delivered is preceded by `onGap`.
 * @param broker the server's broker
 * @param logger where a listener's or `onGap`'s throw or rejection is reported (`logger.error`)
 * @returns the subscription, once the broker has registered it
 */
export async function subscribeInProcess(
  broker: Broker,
  logger: Logger,
  channel: string,
  listener: ServerMessageListener,
  options: ServerSubscribeOptions,
): Promise<ServerSubscription> {
  let active = true;
  // Live messages that arrive before the replay has been delivered wait here.
  let pending: BrokerMessage[] | undefined = [];
  let epoch = '';
  let offset = 0;
  const gap = (info: ServerGapInfo): void => {
    const { onGap } = options;
    if (onGap) callApp(() => onGap(info), (e) => logger.error(`tidewire: a server.subscribe onGap for "${channel}" failed`, e));
  };
  const deliver = (m: BrokerMessage): void => {
    if (!active || (m.epoch === epoch && m.offset <= offset)) return;
    if (m.epoch !== epoch || m.offset !== offset + 1) {
      gap({ epoch: m.epoch, offset: m.offset - 1, from: { epoch, offset }, reason: m.epoch === epoch ? 'history_exhausted' : 'epoch_changed' });
    }
    epoch = m.epoch;
    offset = m.offset;
    // One broken listener must not stop its own stream (the next message still comes), nor, when it
    // is async and rejects, the process. The data is a copy: the broker's object may be what history
    // keeps and other listeners get.
    const data = m.data;
    callApp(() => listener({ channel, id: m.id, epoch: m.epoch, offset: m.offset, data: typeof data === 'object' && data !== null ? structuredClone(data) : data }), (e) => logger.error(`tidewire: a server.subscribe listener for "${channel}" failed at offset ${m.offset}`, e));
  };
  const handle = await broker.subscribe(channel, options.since, (m) => (pending ? pending.push(m) : deliver(m)));
  epoch = handle.epoch;
  offset = handle.offset;
  const { since } = options;
  if (since && !handle.recovered) {
    gap({ epoch: handle.epoch, offset: handle.offset, from: since, reason: since.epoch === handle.epoch ? 'history_exhausted' : 'epoch_changed' });
  }
  for (const m of handle.replay) deliver(m);
  const held = pending;
  pending = undefined;
  for (const m of held) deliver(m);
  return {
    epoch: handle.epoch,
    offset: handle.offset,
    recovered: handle.recovered,
    unsubscribe() {
      if (!active) return;
      active = false;
      handle.unsubscribe();
    },
  };
}
