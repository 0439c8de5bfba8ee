import type { Clock } from './clock';
import { Timer } from './clock';
import type { ChannelSnapshot, GapInfo } from './channel-state';
import type { TidewireError } from './errors';
import { TimeoutError } from './errors';
import type { MessageFrame, Position, SubscribedFrame } from './protocol/frames';
import { Store } from './store';
import type { Requests } from './requests';
import type { PresenceStore } from './presence';

/** What a shared channel pushes to each app-facing handle. */
export interface ChannelSink {
  deliver(frame: MessageFrame): void;
  gap(info: GapInfo): void;
  error(error: TidewireError): void;
}

export interface ChannelHost {
  readonly clock: Clock;
  /** How long an out-of-order message may wait for the hole before it is filled from history. */
  readonly reorderWindow: number;
  /** How long a sent subscribe may go unanswered before it is sent again (ms). */
  readonly subscribeTimeout: number;
  /** Delay before retry number `attempt` (1-based) of a subscribe that timed out or failed for now. */
  backoff(attempt: number): number;
  /** Whether a line is up to send on. */
  canSend(): boolean;
  /** Run `job` when the request pacer allows another frame. */
  schedule(job: () => void): void;
  /** Requests of the optional capabilities (presence, history) and the server's features. */
  readonly requests: Requests;
  /** Send a subscribe frame now and return its request id; `recent`: start with the last N messages (no `since` only). */
  sendSubscribe(name: string, since: Position | undefined, recent?: number): string;
  /** Tell the server to stop this channel's stream (no answer expected). */
  sendUnsubscribe(name: string): void;
  /** A problem that ends nothing (the channel retries): reported on `client.on('error')`. */
  report(error: TidewireError): void;
  /** True for a message the app must not see (its own, with `echo: false`): its offset still counts. */
  skip?(frame: MessageFrame): boolean;
}

/** Messages held back waiting for a hole to close; beyond this they are dropped and history replays them. */
export const MAX_BUFFERED = 1000;

/**
 * Where the channel stands. `waiting`, `scheduled`, `requested` and `retrying` all show as
 * `subscribing` to the app; only `requested` has a subscribe on the wire (and a deadline).
 */
type Phase =
  | { readonly name: 'waiting' } // no line: subscribe when one comes up
  | { readonly name: 'scheduled'; readonly ticket: number } // queued in the request pacer
  | { readonly name: 'requested'; readonly id: string } // sent, answer due within subscribeTimeout
  | { readonly name: 'retrying' } // refused for now or timed out: a timer subscribes again
  | { readonly name: 'subscribed'; readonly recovered: boolean }
  | { readonly name: 'failed'; readonly error: TidewireError } // refused for good until retry()
  | { readonly name: 'disposed' };

/**
 * One server subscription, shared by every handle on the same name (reference counted by the
 * client). It owns the delivery contract: each message reaches the app once, in offset order;
 * holes are filled from history; what history cannot fill is a `gap`.
 *
 * An explicit state machine (docs/client.md, "Channel states") whose only mutator is
 * `#transition`: at most one subscribe is scheduled or in flight at any time, every sent
 * subscribe has a deadline, and `failed` is left by `retry()`.
 */
export class SharedChannel extends Store<ChannelSnapshot> {
  readonly sinks = new Set<ChannelSink>();
  /** The channel's presence, created on first use of `channel.presence` (see presence.ts). */
  presence: PresenceStore | undefined;
  /** Messages to start with (`recent` option) until the first subscribe that carries it. */
  #recent: number | undefined;
  #phase: Phase = { name: 'waiting' };
  #epoch: string | undefined;
  #offset = 0;
  #ticket = 0;
  /** Subscribes that timed out or were refused for now since the last success. */
  #attempt = 0;
  readonly #buffer = new Map<number, MessageFrame>();
  readonly #host: ChannelHost;
  readonly #reorder: Timer;
  /** The subscribe deadline (`requested`) or the retry delay (`retrying`). Every transition stops it. */
  readonly #phaseTimer: Timer;

  /** `since`: start after this position (e.g. one a server-rendered snapshot was taken at) instead of at the head. */
  constructor(
    readonly name: string,
    host: ChannelHost,
    since?: Position,
    recent?: number,
  ) {
    super({ state: 'subscribing' });
    this.#host = host;
    this.#reorder = new Timer(host.clock);
    this.#phaseTimer = new Timer(host.clock);
    this.#epoch = since?.epoch;
    this.#offset = since?.offset ?? 0;
    this.#recent = since ? undefined : recent;
  }

  /** The client's requests of optional capabilities (presence, history). */
  get requests(): Requests {
    return this.#host.requests;
  }

  /** The last position delivered to the app, if any. */
  get position(): Position | undefined {
    return this.#epoch === undefined ? undefined : { epoch: this.#epoch, offset: this.#offset };
  }

  /** Messages held back waiting for a hole (bounded by MAX_BUFFERED). */
  get buffered(): number {
    return this.#buffer.size;
  }

  /**
   * Subscribe from the last delivered position: after a (re)connect, to fill a hole, or on a new
   * epoch. A no-op while a subscribe is already scheduled or in flight (its answer settles it),
   * when failed (see `retry`) or disposed.
   */
  resubscribe(): void {
    const { name } = this.#phase;
    if (name === 'scheduled' || name === 'requested' || name === 'failed' || name === 'disposed') return;
    if (!this.#host.canSend()) return this.#transition({ name: 'waiting' });
    const ticket = ++this.#ticket;
    this.#transition({ name: 'scheduled', ticket });
    this.#host.schedule(() => this.#sendSubscribe(ticket));
  }

  /** Leave `failed` (or cut short a retry delay): subscribe again from the last position. */
  retry(): void {
    const { name } = this.#phase;
    if (name !== 'failed' && name !== 'retrying' && name !== 'waiting') return;
    this.#attempt = 0;
    this.#transition({ name: 'waiting' });
    this.resubscribe();
  }

  /** The line dropped: we will resubscribe from our position once it is back. */
  suspend(): void {
    const { name } = this.#phase;
    if (name !== 'failed' && name !== 'disposed') this.#transition({ name: 'waiting' });
  }

  isAwaiting(requestId: string): boolean {
    return this.#phase.name === 'requested' && this.#phase.id === requestId;
  }

  onSubscribed(frame: SubscribedFrame): void {
    const from = this.position;
    const to = { epoch: frame.epoch, offset: frame.offset };
    if (from && !frame.recovered) {
      const reason = from.epoch === to.epoch ? 'history_exhausted' : 'epoch_changed';
      for (const sink of this.sinks) sink.gap({ channel: this.name, reason, from, to });
    }
    if (!from || !frame.recovered) {
      this.#epoch = frame.epoch;
      this.#offset = frame.offset;
    }
    this.#attempt = 0;
    this.#transition({ name: 'subscribed', recovered: frame.recovered });
    for (const [offset, buffered] of this.#buffer) {
      if (offset <= this.#offset || buffered.epoch !== this.#epoch) this.#buffer.delete(offset);
    }
    this.#drain();
  }

  /**
   * Refused for good (`forbidden`, `unknown_channel`, a server-side `unsubscribed`…): the channel
   * says `failed` and tells the server to stop any earlier subscription still flowing to us.
   */
  onRefused(error: TidewireError): void {
    if (this.#phase.name === 'disposed') return;
    this.#transition({ name: 'failed', error });
    if (this.#host.canSend()) this.#host.sendUnsubscribe(this.name);
    for (const sink of this.sinks) sink.error(error);
  }

  /**
   * Refused for now (`rate_limited`, `server_error`) or unanswered: subscribe again after
   * `delay` ms (the server's `retryAfter`), or after the backoff when the server gave no hint.
   */
  onRetryable(error: TidewireError, delay?: number): void {
    const { name } = this.#phase;
    if (name === 'failed' || name === 'disposed' || name === 'subscribed') return;
    this.#host.report(error);
    this.#transition({ name: 'retrying' });
    this.#phaseTimer.start(delay ?? this.#host.backoff(++this.#attempt), () => this.resubscribe());
  }

  onMessage(frame: MessageFrame): void {
    const { name } = this.#phase;
    if (name === 'failed' || name === 'disposed' || this.#epoch === undefined) return;
    if (frame.epoch !== this.#epoch) {
      // A new epoch mid-stream (the server lost the stream): ask from our position; the answer
      // says recovered or `gap`. While a subscribe is pending, its answer settles it anyway.
      if (name === 'subscribed') this.resubscribe();
      return;
    }
    if (frame.offset <= this.#offset) return; // duplicate
    if (frame.offset === this.#offset + 1) {
      this.#deliver(frame);
      if (this.#buffer.size > 0) this.#drain();
      return;
    }
    // A hole. Past the bound, drop the message (history replays it) and let one resubscribe fill it.
    if (this.#buffer.size >= MAX_BUFFERED) return this.resubscribe();
    this.#buffer.set(frame.offset, frame);
    if (!this.#reorder.armed && name === 'subscribed') this.#reorder.start(this.#host.reorderWindow, () => this.resubscribe());
  }

  /** Stop timers; the client forgets this channel. */
  dispose(): void {
    this.#transition({ name: 'disposed' });
  }

  #sendSubscribe(ticket: number): void {
    if (this.#phase.name !== 'scheduled' || this.#phase.ticket !== ticket) return; // superseded
    if (!this.#host.canSend()) return this.#transition({ name: 'waiting' });
    const id = this.#host.sendSubscribe(this.name, this.position, this.#takeRecent());
    this.#transition({ name: 'requested', id });
    const timeout = this.#host.subscribeTimeout;
    this.#phaseTimer.start(timeout, () =>
      this.onRetryable(new TimeoutError('timeout', `no answer to subscribe "${this.name}" within ${timeout} ms`, { context: { channel: this.name, id } })),
    );
  }

  /** The `recent` count for this subscribe: only before any position, only if the server has `history`. */
  #takeRecent(): number | undefined {
    const recent = this.position ? undefined : this.#recent;
    if (!recent) return undefined;
    const missing = this.#host.requests.missing('history');
    if (!missing) return recent;
    this.#recent = undefined;
    for (const sink of this.sinks) sink.error(missing);
    return undefined;
  }

  /** The one mutator of the channel's state; the snapshot the app sees is derived from the phase. */
  #transition(to: Phase): void {
    this.#phase = to;
    this.#phaseTimer.stop();
    if (to.name !== 'subscribed') this.#reorder.stop();
    if (to.name === 'failed' || to.name === 'disposed') this.#buffer.clear();
    const position = this.position;
    switch (to.name) {
      case 'subscribed':
        return this.setSnapshot({ state: 'subscribed', position: position!, recovered: to.recovered });
      case 'failed':
        return this.setSnapshot({ state: 'failed', position, error: to.error });
      case 'disposed':
        return this.setSnapshot({ state: 'unsubscribed', position });
      default:
        // Snapshot identity is kept while nothing the app sees changes (bindings re-render on identity).
        if (this.getSnapshot().state !== 'subscribing') this.setSnapshot({ state: 'subscribing', position });
    }
  }

  #drain(): void {
    let next: MessageFrame | undefined;
    while ((next = this.#buffer.get(this.#offset + 1))) {
      this.#buffer.delete(next.offset);
      this.#deliver(next);
    }
    if (this.#buffer.size === 0) this.#reorder.stop();
  }

  #deliver(frame: MessageFrame): void {
    this.#offset = frame.offset;
    if (this.#host.skip?.(frame)) return; // consumed, not delivered: positions stay consecutive
    for (const sink of this.sinks) sink.deliver(frame);
  }
}
