import { encodeFrame, messageKey, type ErrorCode, type ServerFrame, type SubscribeFrame } from '@tidewire/core/protocol';
import type { Broker, BrokerMessage, BrokerSubscription } from './broker/broker';
import type { Clock } from './clock';
import { elapsed } from './clock';
import { encodeMessage, encodeReplayed } from './encode';
import type { Logger } from './hooks';

/** What a session's subscriptions need from the session. */
export interface SubscriptionHost {
  readonly broker: Broker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The session's slow-consumer limit: a replay is written in pieces that stay well under it. */
  readonly maxBufferedBytes: number;
  /** How long a replay may wait for the client to read what was already written (ms). */
  readonly replayStallMs: number;
  sendText(text: string): void;
  send(frame: ServerFrame): void;
  bufferedBytes(): number;
  /** The session is over (nothing more is sent). */
  closed(): boolean;
  /** The client does not read: end the session. */
  slowConsumer(message: string): void;
  /** A resubscribe from a position was answered: bridged from history (`true`) or with a gap. */
  recovery?(recovered: boolean): void;
}

/** One channel subscription; `pending` holds live messages until the replay has been sent. */
interface Subscription {
  handle: BrokerSubscription | undefined;
  pending: BrokerMessage[] | undefined;
  epoch: string;
  offset: number; // last offset sent to the client
}

type Encoder = (channel: string, m: BrokerMessage) => string;

/** How often a waiting replay looks at the link's buffer (ms). */
const DRAIN_POLL_MS = 10;

/**
 * A session's channel subscriptions, keyed by channel name in a Map (never a plain object:
 * channel names come from the wire). Every message reaches the client once and in order,
 * replay first; when one cannot be encoded or sent, that one subscription ends with an
 * `unsubscribed` frame (code `server_error`), so the client knows to resubscribe instead of
 * waiting on a stream that stopped. Other subscriptions, and other sessions, are not affected.
 */
/** Message ids one session remembers to skip at most. */
const MAX_SKIPPED = 1000;

export class SessionSubscriptions {
  readonly #subs = new Map<string, Subscription>();
  /** Ids of messages this session is excepted from (server.publish's `except`), until they pass. */
  readonly #skip = new Set<string>();

  constructor(private readonly host: SubscriptionHost) {}

  /**
   * Send the message of `channel` with id `id` to this session as a skip (position only, no data).
   * Ids are per channel (the same id on another channel is another message, delivered as usual).
   * Bounded: one whose message never passes here (not subscribed to its channel) is forgotten once
   * it is the oldest of MAX_SKIPPED.
   */
  skipOnce(channel: string, id: string): void {
    this.#skip.add(messageKey(channel, id));
    if (this.#skip.size > MAX_SKIPPED) this.#skip.delete(this.#skip.values().next().value!);
  }

  /** Channels currently subscribed (or being subscribed). */
  get size(): number {
    return this.#subs.size;
  }

  has(channel: string): boolean {
    return this.#subs.has(channel);
  }

  /**
   * Subscribe, or re-subscribe (which replaces the old subscription: the client gets one
   * stream, never two). Sends `subscribed`, then the replay in pieces, then what arrived live
   * meanwhile. Throws only when the broker does (the caller answers `server_error`).
   */
  async subscribe({ id, channel, since }: SubscribeFrame): Promise<void> {
    this.#subs.get(channel)?.handle?.unsubscribe();
    const sub: Subscription = { handle: undefined, pending: [], epoch: '', offset: 0 };
    this.#subs.set(channel, sub);
    let handle: BrokerSubscription;
    try {
      handle = await this.host.broker.subscribe(channel, since, (m) => this.#onMessage(channel, sub, m));
    } catch (e) {
      if (this.#subs.get(channel) === sub) this.#subs.delete(channel);
      throw e;
    }
    if (this.#subs.get(channel) !== sub) {
      handle.unsubscribe(); // closed or superseded while the broker was busy
      return;
    }
    sub.handle = handle;
    sub.epoch = handle.epoch;
    sub.offset = handle.offset;
    this.host.send({ type: 'subscribed', id, channel, epoch: handle.epoch, offset: handle.offset, recovered: handle.recovered });
    if (since) this.host.recovery?.(handle.recovered);
    if (!(await this.#replay(channel, sub, handle.replay))) return;
    // Whatever arrived live during the replay follows it: in order, once (see #deliver).
    while (sub.pending && sub.pending.length > 0) {
      const batch = sub.pending;
      sub.pending = [];
      for (const m of batch) if (!this.#deliver(channel, sub, m, encodeMessage)) return;
    }
    sub.pending = undefined;
  }

  /** The channels subscribed (or being subscribed). */
  channels(): string[] {
    return [...this.#subs.keys()];
  }

  /** End one subscription and tell the client (`unsubscribed` with `code`), as when it cannot go on. */
  revoke(channel: string, code: ErrorCode, message: string): void {
    const sub = this.#subs.get(channel);
    if (sub) this.#end(channel, sub, code, message);
  }

  unsubscribe(channel: string): void {
    this.#subs.get(channel)?.handle?.unsubscribe();
    this.#subs.delete(channel);
  }

  /** Stop every subscription (the session ended). */
  clear(): void {
    for (const sub of this.#subs.values()) sub.handle?.unsubscribe();
    this.#subs.clear();
  }

  #onMessage(channel: string, sub: Subscription, m: BrokerMessage): void {
    if (this.#subs.get(channel) !== sub) return;
    if (sub.pending) sub.pending.push(m);
    else this.#deliver(channel, sub, m, encodeMessage);
  }

  /**
   * Write the replay in pieces of at most a quarter of the slow-consumer limit, each only once
   * the link has drained below half of it: a recovering subscriber is never closed
   * `slow_consumer` by its own replay.
   * @returns false when the subscription ended meanwhile
   */
  async #replay(channel: string, sub: Subscription, replay: readonly BrokerMessage[]): Promise<boolean> {
    const { maxBufferedBytes } = this.host;
    const piece = Math.max(1, Math.floor(maxBufferedBytes / 4));
    let written = 0;
    for (const m of replay) {
      if (written >= piece || this.host.bufferedBytes() > maxBufferedBytes / 2) {
        written = 0;
        if (!(await this.#drained(maxBufferedBytes / 2))) return false;
        if (this.#subs.get(channel) !== sub) return false;
      }
      const text = this.#deliver(channel, sub, m, encodeReplayed);
      if (text === false) return false;
      written += text.length;
    }
    return true;
  }

  /** Wait until the link holds at most `low` bytes. False when the session ended or the client stopped reading. */
  #drained(low: number): Promise<boolean> {
    const { clock, replayStallMs } = this.host;
    const giveUpAt = elapsed(clock) + replayStallMs;
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.host.closed()) return resolve(false);
        if (this.host.bufferedBytes() <= low) return resolve(true);
        if (elapsed(clock) >= giveUpAt) {
          this.host.slowConsumer(`the client read nothing of its replay for ${replayStallMs} ms`);
          return resolve(false);
        }
        clock.setTimeout(check, DRAIN_POLL_MS);
      };
      clock.setTimeout(check, DRAIN_POLL_MS); // after the burst, so the link has flushed what it holds
    });
  }

  /**
   * Send one message, never an offset twice.
   * @returns the text sent ('' for a duplicate), or false when it could not be encoded or sent (the subscription ended)
   */
  #deliver(channel: string, sub: Subscription, m: BrokerMessage, encode: Encoder): string | false {
    if (m.epoch === sub.epoch && m.offset <= sub.offset) return '';
    let text: string;
    try {
      // Excepted from this message (server.publish's `except`): the position, without the data.
      text = this.#skip.size > 0 && this.#skip.delete(messageKey(channel, m.id))
        ? encodeFrame({ type: 'message', channel, epoch: m.epoch, offset: m.offset, id: m.id, data: null, skip: true })
        : encode(channel, m);
      this.host.sendText(text);
    } catch (e) {
      this.host.logger.error(`tidewire: could not send message ${m.offset} of "${channel}"; the subscription ends`, e);
      this.#end(channel, sub, 'server_error', `message ${m.offset} could not be delivered; subscribe again to recover`);
      return false;
    }
    sub.epoch = m.epoch;
    sub.offset = m.offset;
    return text;
  }

  /** End one subscription and tell the client why, so it never waits on a stream that stopped. */
  #end(channel: string, sub: Subscription, code: ErrorCode, message: string): void {
    if (this.#subs.get(channel) !== sub) return;
    this.unsubscribe(channel);
    if (!this.host.closed()) this.host.send({ type: 'unsubscribed', channel, code, message });
  }
}
