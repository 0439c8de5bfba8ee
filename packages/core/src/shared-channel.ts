import type { Clock } from './clock';
import { Timer } from './clock';
import type { ChannelSnapshot, GapInfo } from './channel-state';
import type { TidewireError } from './errors';
import type { MessageFrame, Position, SubscribedFrame } from './protocol/frames';
import { Store } from './store';

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
  /** Send a subscribe frame (if connected) and return its request id. */
  subscribe(channel: SharedChannel, since: Position | undefined): string | undefined;
}

const MAX_BUFFERED = 1000;

/**
 * One server subscription, shared by every handle on the same name (reference counted
 * by the client). It owns the delivery contract: each message reaches the app once,
 * in offset order; holes are filled from history; what history cannot fill is a `gap`.
 */
export class SharedChannel extends Store<ChannelSnapshot> {
  readonly sinks = new Set<ChannelSink>();
  #epoch: string | undefined;
  #offset = 0;
  #requestId: string | undefined;
  readonly #buffer = new Map<number, MessageFrame>();
  readonly #host: ChannelHost;
  readonly #reorder: Timer;

  /** `since`: start after this position (e.g. one a server-rendered snapshot was taken at) instead of at the head. */
  constructor(
    readonly name: string,
    host: ChannelHost,
    since?: Position,
  ) {
    super({ state: 'subscribing' });
    this.#host = host;
    this.#reorder = new Timer(host.clock);
    this.#epoch = since?.epoch;
    this.#offset = since?.offset ?? 0;
  }

  /** The last position delivered to the app, if any. */
  get position(): Position | undefined {
    return this.#epoch === undefined ? undefined : { epoch: this.#epoch, offset: this.#offset };
  }

  /** Subscribe from the last delivered position (after a (re)connect, or to fill a hole). */
  resubscribe(): void {
    if (this.getSnapshot().state === 'failed') return;
    this.#reorder.stop();
    this.#requestId = this.#host.subscribe(this, this.position);
    if (this.getSnapshot().state !== 'subscribing') this.setSnapshot({ state: 'subscribing', position: this.position });
  }

  /** The line dropped: we will resubscribe from our position once it is back. */
  suspend(): void {
    this.#requestId = undefined;
    if (this.getSnapshot().state === 'subscribed') this.setSnapshot({ state: 'subscribing', position: this.position });
  }

  isAwaiting(requestId: string): boolean {
    return this.#requestId === requestId;
  }

  onSubscribed(frame: SubscribedFrame): void {
    this.#requestId = undefined;
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
    this.setSnapshot({ state: 'subscribed', position: to, recovered: frame.recovered });
    for (const [offset, buffered] of this.#buffer) {
      if (offset <= this.#offset || buffered.epoch !== this.#epoch) this.#buffer.delete(offset);
    }
    this.#drain();
  }

  onRefused(error: TidewireError): void {
    this.#requestId = undefined;
    this.#reorder.stop();
    this.setSnapshot({ state: 'failed', position: this.position, error });
    for (const sink of this.sinks) sink.error(error);
  }

  onMessage(frame: MessageFrame): void {
    if (frame.epoch !== this.#epoch || frame.offset <= this.#offset) return; // stale stream or duplicate
    if (frame.offset === this.#offset + 1) {
      this.#deliver(frame);
      if (this.#buffer.size > 0) this.#drain();
      return;
    }
    // A hole: hold this one back, and ask for a replay if the hole does not close by itself.
    this.#buffer.set(frame.offset, frame);
    if (this.#buffer.size > MAX_BUFFERED) this.resubscribe();
    else if (!this.#reorder.armed) this.#reorder.start(this.#host.reorderWindow, () => this.resubscribe());
  }

  /** Stop timers; the client forgets this channel. */
  dispose(): void {
    this.#reorder.stop();
    this.#buffer.clear();
    this.setSnapshot({ state: 'unsubscribed', position: this.position });
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
    for (const sink of this.sinks) sink.deliver(frame);
  }
}
