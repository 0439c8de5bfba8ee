import type { Clock } from './clock';
import { Timer } from './clock';
import type { TidewireError } from './errors';
import { TidewireError as BaseError, TimeoutError } from './errors';
import type { AckFrame } from './protocol/frames';

export interface PublishResult {
  readonly id: string;
  readonly epoch: string;
  readonly offset: number;
}

interface Pending {
  readonly text: string;
  readonly resolve: (result: PublishResult) => void;
  readonly reject: (error: TidewireError) => void;
  readonly deadline: number;
  sent: boolean;
}

export interface OutboxOptions {
  clock: Clock;
  /** From publish() to ack, whatever happens in between (queueing, reconnects). */
  timeout: number;
  /** Bound on publishes not yet acknowledged, queued or in flight. */
  maxSize: number;
  send(text: string): void;
  canSend(): boolean;
}

/**
 * Publishes not yet acknowledged, in publish order. Each keeps its encoded frame
 * and id, so a retry after reconnect re-sends the same id and the server stores it once.
 *
 * Every publish has the same timeout, so publish order is deadline order: one timer,
 * aimed at the oldest entry, serves them all. It is not re-aimed on every ack — when
 * it fires it rejects what has expired and aims at the new oldest — so a stream of
 * publishes costs no timer work per message.
 */
export class Outbox {
  readonly #pending = new Map<string, Pending>();
  readonly #options: OutboxOptions;
  readonly #timer: Timer;

  constructor(options: OutboxOptions) {
    this.#options = options;
    this.#timer = new Timer(options.clock);
  }

  get size(): number {
    return this.#pending.size;
  }

  add(id: string, text: string): Promise<PublishResult> {
    const { clock, timeout, maxSize } = this.#options;
    if (this.#pending.size >= maxSize) {
      return Promise.reject(new BaseError('queue_full', `the outbox holds ${maxSize} unacknowledged publishes`, { context: { id } }));
    }
    return new Promise((resolve, reject) => {
      const entry: Pending = { text, resolve, reject, deadline: clock.now() + timeout, sent: false };
      this.#pending.set(id, entry);
      if (!this.#timer.armed) this.#timer.start(timeout, this.#expire);
      if (this.#options.canSend()) this.#send(entry);
    });
  }

  /** Reject what has waited `timeout`, oldest first, then aim at the next deadline. */
  #expire = (): void => {
    const now = this.#options.clock.now();
    for (const [id, entry] of this.#pending) {
      if (entry.deadline > now) return this.#timer.start(entry.deadline - now, this.#expire);
      this.#pending.delete(id);
      entry.reject(new TimeoutError('timeout', `no ack for publish ${id} within ${this.#options.timeout} ms`, { context: { id } }));
    }
  };

  /** Send everything not yet on the current line, oldest first. */
  flush(): void {
    for (const entry of this.#pending.values()) if (!entry.sent) this.#send(entry);
  }

  /** The line dropped: whatever was in flight goes again, with the same id, on the next one. */
  requeue(): void {
    for (const entry of this.#pending.values()) entry.sent = false;
  }

  ack(frame: AckFrame): void {
    const entry = this.#settle(frame.id);
    entry?.resolve({ id: frame.id, epoch: frame.epoch, offset: frame.offset });
  }

  /** Returns false when `id` is not ours (the error answers another kind of request). */
  refuse(id: string, error: TidewireError): boolean {
    const entry = this.#settle(id);
    entry?.reject(error);
    return entry !== undefined;
  }

  failAll(error: TidewireError): void {
    this.#timer.stop();
    for (const id of [...this.#pending.keys()]) this.refuse(id, error);
  }

  #settle(id: string): Pending | undefined {
    const entry = this.#pending.get(id);
    if (!entry) return undefined;
    this.#pending.delete(id);
    return entry;
  }

  #send(entry: Pending): void {
    entry.sent = true;
    this.#options.send(entry.text);
  }
}
