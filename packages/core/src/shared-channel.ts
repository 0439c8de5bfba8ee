import { Timer } from './clock';
import type { ChannelSnapshot, GapInfo } from './channel-state';
import type { TidewireError } from './errors';
import { TimeoutError } from './errors';
import type { MessageFrame, Position, SubscribedFrame } from './protocol/frames';
import { Store } from './store';
import type { Requests, RequestsHost } from './requests';
import type { PresenceStore } from './presence';
import type { UnusableMessage } from './unusable-message';

/** What a shared channel pushes to each app-facing handle. */
export interface ChannelSink {
  deliver(frame: MessageFrame): void;
  gap(info: GapInfo): void;
  error(error: TidewireError): void;
}

/** The line (`clock_`, `canSend_`, `schedule_`) and what a channel adds to it. */
export interface ChannelHost extends Pick<RequestsHost, 'clock_' | 'canSend_' | 'schedule_'> {
  /** How long an out-of-order message may wait for the hole before it is filled from history. */
  readonly reorderWindow_: number;
  /** How long a sent subscribe may go unanswered before it is sent again (ms). */
  readonly subscribeTimeout_: number;
  /** Delay before retry number `attempt` (1-based) of a subscribe that timed out or failed for now. */
  backoff_(attempt: number): number;
  /** Requests of the optional capabilities (presence, history) and the server's features. */
  readonly requests_: Requests;
  /** Send a subscribe frame now and return its request id; `recent`: start with the last N messages (no `since` only). */
  sendSubscribe_(name: string, since: Position | undefined, recent?: number): string;
  /** Tell the server to stop this channel's stream (no answer expected). */
  sendUnsubscribe_(name: string): void;
  /** A problem that ends nothing (the channel retries): reported on `client.on('error')`. */
  report_(error: TidewireError): void;
  /** True for a message the app must not see (its own, with `echo: false`): its offset still counts. */
  skip_?(frame: MessageFrame): boolean;
}

/** Messages held back waiting for a hole to close; beyond this they are dropped and history replays them. */
export const MAX_BUFFERED = 1000;

/**
 * Where the channel stands. `waiting`, `scheduled`, `requested` and `retrying` all show as
 * `subscribing` to the app; only `requested` has a subscribe on the wire (and a deadline).
 */
type Phase =
  | { readonly name_: 'waiting' } // no line: subscribe when one comes up
  | { readonly name_: 'scheduled'; readonly ticket_: number } // queued in the request pacer
  | { readonly name_: 'requested'; readonly id_: string } // sent, answer due within subscribeTimeout
  | { readonly name_: 'retrying' } // refused for now or timed out: a timer subscribes again
  | { readonly name_: 'subscribed'; readonly recovered_: boolean }
  | { readonly name_: 'failed'; readonly error_: TidewireError } // refused for good until retry()
  | { readonly name_: 'disposed' };

/** The phases that carry nothing of their own, one object each for every channel. */
/** See `onSubscribed`. */
let lastEpoch = '';

const WAITING: Phase = { name_: 'waiting' };
const RETRYING: Phase = { name_: 'retrying' };
const DISPOSED: Phase = { name_: 'disposed' };
const SUBSCRIBED: Phase = { name_: 'subscribed', recovered_: false };
const RECOVERED: Phase = { name_: 'subscribed', recovered_: true };

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
  /**
   * The handles on this channel. An array (a one-handle Set costs three times as much), replaced on
   * every change (a copy with the new handle, `filter` without the old): a delivery under way finishes
   * over the array it started with — a handle released by an earlier listener ignores what still
   * reaches it — and an array of one handle holds one slot (`push` on an empty array makes 17).
   */
  sinks_: ChannelSink[] = [];
  /** The channel's presence, created on first use of `channel.presence` (see presence.ts). */
  presence_: PresenceStore | undefined;
  /** Messages to start with (`recent` option) until the first subscribe that carries it. */
  #recent: number | undefined;
  #phase: Phase = WAITING;
  #epoch: string | undefined;
  #offset = 0;
  #ticket = 0;
  /** Subscribes that timed out or were refused for now since the last success. */
  #attempt = 0;
  /** Messages held back waiting for a hole to close, by offset; made on the first hole. */
  #buffer: Map<number, MessageFrame> | undefined;
  readonly #host: ChannelHost;
  /** Timers made on first use: an idle subscribed channel holds none. */
  #reorder: Timer | undefined;
  /** The subscribe deadline (`requested`) or the retry delay (`retrying`). Every transition stops it. */
  #phaseTimer: Timer | undefined;

  /** `since`: start after this position (e.g. one a server-rendered snapshot was taken at) instead of at the head. */
  constructor(
    readonly name: string,
    host: ChannelHost,
    since?: Position,
    recent?: number,
  ) {
    super({ state: 'subscribing' });
    this.#host = host;
    this.#epoch = since?.epoch;
    this.#offset = since?.offset ?? 0;
    this.#recent = since ? undefined : recent;
  }

  /** The client's requests of optional capabilities (presence, history). */
  get requests_(): Requests {
    return this.#host.requests_;
  }

  /** The last position delivered to the app, if any. */
  get position(): Position | undefined {
    return this.#epoch === undefined ? undefined : { epoch: this.#epoch, offset: this.#offset };
  }

  /** Messages held back waiting for a hole (bounded by MAX_BUFFERED). */
  get buffered_(): number {
    return this.#buffer?.size ?? 0;
  }

  /**
   * Subscribe from the last delivered position: after a (re)connect, to fill a hole, or on a new
   * epoch. A no-op while a subscribe is already scheduled or in flight (its answer settles it),
   * when failed (see `retry`) or disposed.
   */
  resubscribe_(): void {
    const { name_: name } = this.#phase;
    if (name === 'scheduled' || name === 'requested' || name === 'failed' || name === 'disposed') return;
    if (!this.#host.canSend_()) return this.#transition(WAITING);
    const ticket = ++this.#ticket;
    this.#transition({ name_: 'scheduled', ticket_: ticket });
    this.#host.schedule_(() => this.#sendSubscribe(ticket));
  }

  /** Leave `failed` (or cut short a retry delay): subscribe again from the last position. */
  retry_(): void {
    const { name_: name } = this.#phase;
    if (name !== 'failed' && name !== 'retrying' && name !== 'waiting') return;
    this.#attempt = 0;
    this.#transition(WAITING);
    this.resubscribe_();
  }

  /** The line dropped: we will resubscribe from our position once it is back. */
  suspend_(): void {
    const { name_: name } = this.#phase;
    if (name !== 'failed' && name !== 'disposed') this.#transition(WAITING);
  }

  isAwaiting(requestId: string): boolean {
    return this.#phase.name_ === 'requested' && this.#phase.id_ === requestId;
  }

  onSubscribed(frame: SubscribedFrame): void {
    const from = this.position;
    const to = { epoch: frame.epoch, offset: frame.offset };
    if (!from || !frame.recovered) {
      // The last epoch seen, shared: every client of a process on one channel has the same one,
      // and each subscribed frame parses its own copy (32 B an idle client, bench/idle-heap.ts).
      this.#epoch = lastEpoch = frame.epoch === lastEpoch ? lastEpoch : frame.epoch;
      this.#offset = frame.offset;
    }
    this.#attempt = 0;
    if (from && !frame.recovered) {
      const reason = from.epoch === to.epoch ? 'history_exhausted' : 'epoch_changed';
      for (const sink of this.sinks_) sink.gap({ channel: this.name, reason, from, to });
      // A gap listener may have ended the line (close(), disconnectTransport()): the channel then
      // waits for the next one, from the position the gap announced.
      if (!this.isAwaiting(frame.id)) return;
    }
    this.#transition(frame.recovered ? RECOVERED : SUBSCRIBED);
    const buffer = this.#buffer;
    if (buffer) {
      for (const [offset, buffered] of buffer) {
        if (offset <= this.#offset || buffered.epoch !== this.#epoch) buffer.delete(offset);
      }
      this.#drain(buffer);
    }
  }

  /**
   * Refused for good (`forbidden`, `unknown_channel`, a server-side `unsubscribed`…): the channel
   * says `failed` and tells the server to stop any earlier subscription still flowing to us.
   */
  onRefused(error: TidewireError): void {
    if (this.#phase.name_ === 'disposed') return;
    this.#transition({ name_: 'failed', error_: error });
    if (this.#host.canSend_()) this.#host.sendUnsubscribe_(this.name);
    for (const sink of this.sinks_) sink.error(error);
  }

  /**
   * Refused for now (`rate_limited`, `server_error`) or unanswered: subscribe again after
   * `delay` ms (the server's `retryAfter`), or after the backoff when the server gave no hint.
   */
  onRetryable(error: TidewireError, delay?: number): void {
    const { name_: name } = this.#phase;
    if (name === 'failed' || name === 'disposed' || name === 'subscribed') return;
    this.#host.report_(error);
    this.#transition(RETRYING);
    this.#phaseTimerStart(delay ?? this.#host.backoff_(++this.#attempt), () => this.resubscribe_());
  }

  onMessage(frame: MessageFrame): void {
    const { name_: name } = this.#phase;
    if (name === 'failed' || name === 'disposed' || this.#epoch === undefined) return;
    if (frame.epoch !== this.#epoch) {
      // A new epoch mid-stream (the server lost the stream): ask from our position; the answer
      // says recovered or `gap`. While a subscribe is pending, its answer settles it anyway.
      if (name === 'subscribed') this.resubscribe_();
      return;
    }
    if (frame.offset <= this.#offset) return; // duplicate
    if (frame.offset === this.#offset + 1) {
      this.#deliver(frame);
      if (this.#buffer?.size) this.#drain(this.#buffer);
      return;
    }
    // A hole. Past the bound, drop the message (history replays it) and let one resubscribe fill it.
    const buffer = (this.#buffer ??= new Map());
    if (buffer.size >= MAX_BUFFERED) return this.resubscribe_();
    buffer.set(frame.offset, frame);
    if (!this.#reorder?.armed_ && name === 'subscribed') (this.#reorder ??= new Timer(this.#host.clock_)).start_(this.#host.reorderWindow_, () => this.resubscribe_());
  }

  /** Stop timers; the client forgets this channel. */
  dispose_(): void {
    this.#transition(DISPOSED);
  }

  #sendSubscribe(ticket: number): void {
    if (this.#phase.name_ !== 'scheduled' || this.#phase.ticket_ !== ticket) return; // superseded
    if (!this.#host.canSend_()) return this.#transition(WAITING);
    const id = this.#host.sendSubscribe_(this.name, this.position, this.#takeRecent());
    this.#transition({ name_: 'requested', id_: id });
    const timeout = this.#host.subscribeTimeout_;
    this.#phaseTimerStart(timeout, () =>
      this.onRetryable(new TimeoutError('timeout', `no answer to subscribe "${this.name}" within ${timeout} ms`, { context: { channel: this.name, id } })),
    );
  }

  /** The `recent` count for this subscribe: only before any position, only if the server has `history`. */
  #takeRecent(): number | undefined {
    const recent = this.position ? undefined : this.#recent;
    if (!recent) return undefined;
    const missing = this.#host.requests_.missing_('history');
    if (!missing) return recent;
    this.#recent = undefined;
    for (const sink of this.sinks_) sink.error(missing);
    return undefined;
  }

  /** The one mutator of the channel's state; the snapshot the app sees is derived from the phase. */
  #transition(to: Phase): void {
    this.#phase = to;
    this.#phaseTimer?.stop_();
    this.#phaseTimer = undefined; // made again when a phase needs one: a subscribed channel holds none
    if (to.name_ !== 'subscribed') this.#reorder?.stop_();
    if (to.name_ === 'failed' || to.name_ === 'disposed') this.#buffer = undefined;
    const position = this.position;
    switch (to.name_) {
      case 'subscribed':
        return this.setSnapshot({ state: 'subscribed', position: position!, recovered: to.recovered_ });
      case 'failed':
        return this.setSnapshot({ state: 'failed', position, error: to.error_ });
      case 'disposed':
        return this.setSnapshot({ state: 'unsubscribed', position });
      default:
        // Snapshot identity is kept while nothing the app sees changes (bindings re-render on identity).
        if (this.read_().state !== 'subscribing') this.setSnapshot({ state: 'subscribing', position });
    }
  }

  #phaseTimerStart(ms: number, fn: () => void): void {
    (this.#phaseTimer ??= new Timer(this.#host.clock_)).start_(ms, fn);
  }

  /** Deliver what the buffer holds in order from the position; an empty buffer is dropped (the common case: a hole that closed). */
  #drain(buffer: Map<number, MessageFrame>): void {
    let next: MessageFrame | undefined;
    while ((next = buffer.get(this.#offset + 1))) {
      buffer.delete(next.offset);
      this.#deliver(next);
    }
    if (buffer.size === 0) {
      this.#reorder?.stop_();
      if (this.#buffer === buffer) this.#buffer = undefined;
    }
  }

  #deliver(frame: MessageFrame): void {
    this.#offset = frame.offset;
    if (this.#host.skip_?.(frame)) return; // consumed, not delivered: positions stay consecutive
    const unusable = (frame as Partial<UnusableMessage>).unusable_;
    if (unusable) {
      // Consumed at its offset and reported (client and channel), like an inbound validation failure.
      this.#host.report_(unusable);
      for (const sink of this.sinks_) sink.error(unusable);
      return;
    }
    for (const sink of this.sinks_) sink.deliver(frame);
  }
}
