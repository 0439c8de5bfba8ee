import type { BrokerMessage, MessageListener } from '@tidewire/server';

/** What a feed reads from Redis to fill holes. Both reject while Redis is unreachable. */
export interface FeedSource {
  /** Messages with offsets in [from, to] of `epoch` that the stream still holds, in order. */
  range(from: number, to: number, epoch: string): Promise<BrokerMessage[]>;
  /** The channel's current epoch (undefined: its metadata is gone) and head offset. */
  head(): Promise<{ epoch: string | undefined; head: number }>;
}

/** Where a subscriber starts, as the resume script answered it. */
export interface ResumePoint {
  readonly epoch: string;
  /** The position the subscriber continues after: `since` when recovered with a replay, else the head. */
  readonly offset: number;
  /** The channel's head when the script ran; the replay (if any) ends here. */
  readonly head: number;
  readonly recovered: boolean;
  readonly replay: readonly BrokerMessage[];
  /** The subscriber asked for no position (starts live). */
  readonly live: boolean;
}

export interface Registration extends ResumePoint {
  remove(): void;
}

interface Listening {
  readonly listener: MessageListener;
  readonly epoch: string;
  /** Everything up to here is in the subscriber's position or replay. */
  readonly after: number;
}

/** Wait before retrying a fill that failed because Redis was unreachable (ms). */
const RETRY_FILL_AFTER = 250;

/**
 * One channel's live delivery in one process. Pub/sub notifications arrive in
 * publish order on one connection, but some can be missing (dropped while the
 * subscriber connection was down). The feed keeps a cursor (the last offset
 * delivered) and hands listeners a gap-free sequence: a notification past a
 * hole first fills the hole from the stream (XRANGE); a reconnect triggers a
 * catch-up to the head. Every step runs on one serial chain, so listener
 * registration, fills and deliveries never interleave.
 */
export class ChannelFeed {
  readonly #source: FeedSource;
  readonly #listeners = new Set<Listening>();
  #epoch: string | undefined; // undefined until the first listener registers
  #cursor = 0;
  #inbox: BrokerMessage[] = [];
  #catchUpWanted = false;
  #pumpQueued = false;
  #chain: Promise<void> = Promise.resolve();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(source: FeedSource) {
    this.#source = source;
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** The messages of a pub/sub notification (already decoded), in offset order. */
  notify(...messages: BrokerMessage[]): void {
    if (this.#closed || messages.length === 0) return;
    this.#inbox.push(...messages);
    this.#schedulePump();
  }

  /**
   * Whether offsets up to `last` of `epoch` were delivered already (filled from the stream), so a
   * notification ending there can be dropped without decoding it: the pump would skip each of its
   * messages anyway.
   */
  delivered(epoch: string, last: number): boolean {
    return epoch === this.#epoch && last <= this.#cursor;
  }

  /** Notifications may have been lost (subscriber reconnected): read up to the head. */
  catchUp(): void {
    this.#catchUpWanted = true;
    this.#schedulePump();
  }

  /**
   * Add a listener at the position the resume script returned. If the feed has
   * already delivered past that head (a notification overtook the script's
   * reply), the messages in between go into the replay, so the listener's
   * stream has neither a hole nor a duplicate.
   */
  register(point: ResumePoint, listener: MessageListener): Promise<Registration> {
    return this.#serial(async () => {
      let replay = point.replay;
      let offset = point.offset;
      let recovered = point.recovered;
      if (this.#epoch === undefined) {
        this.#epoch = point.epoch;
        this.#cursor = point.head;
      } else if (point.epoch !== this.#epoch) {
        this.#catchUpWanted = true; // the feed still follows an epoch that is gone: switch it
      } else if (this.#cursor > point.head) {
        const extra = await this.#source.range(point.head + 1, this.#cursor, point.epoch);
        if (extra.length === this.#cursor - point.head) {
          replay = [...replay, ...extra];
        } else if (await this.#epochGone(point.epoch)) {
          // Flushed, not trimmed: the listener keeps its position and hears of the loss once, as
          // the epoch's change when the feed moves on (a start refused here would be a second gap).
          this.#catchUpWanted = true;
        } else {
          // Trimmed in the meantime (tiny history): start at the feed's cursor instead.
          offset = this.#cursor;
          recovered = point.live; // a live start missed nothing; a resume now has a hole
          replay = [];
        }
      }
      const listening: Listening = { listener, epoch: point.epoch, after: replay.at(-1)?.offset ?? Math.max(offset, point.head) };
      this.#listeners.add(listening);
      this.#schedulePump();
      return { ...point, offset, recovered, replay, remove: () => void this.#listeners.delete(listening) };
    });
  }

  close(): void {
    this.#closed = true;
    this.#inbox = [];
    this.#listeners.clear();
    clearTimeout(this.#retryTimer);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#chain.then(task);
    this.#chain = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  #schedulePump(): void {
    if (this.#pumpQueued || this.#closed) return;
    this.#pumpQueued = true;
    this.#serial(() => {
      this.#pumpQueued = false;
      return this.#pump();
    }).catch(() => {
      // Redis unreachable mid-fill: what is undelivered stays in the inbox; try again shortly
      // (the subscriber's reconnect also asks for a catch-up).
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.#schedulePump(), RETRY_FILL_AFTER);
      this.#retryTimer.unref?.();
    });
  }

  async #pump(): Promise<void> {
    if (this.#closed || this.#epoch === undefined) return; // no listener yet: keep the inbox
    if (this.#catchUpWanted) {
      this.#catchUpWanted = false;
      try {
        await this.#catchUpToHead();
      } catch (e) {
        this.#catchUpWanted = true;
        throw e;
      }
    }
    let next = 0; // the inbox's handled prefix, dropped in one splice rather than one shift each
    try {
      while (next < this.#inbox.length && !this.#closed) {
        const message = this.#inbox[next]!;
        // The usual case, handled without an await: the next offset of the epoch followed (or one
        // already filled). So the messages of one pub/sub read reach the sessions in one synchronous
        // burst, which each socket writes out in one syscall (afterBurst.ts), not one per message.
        if (message.epoch === this.#epoch && message.offset <= this.#cursor + 1) {
          if (message.offset === this.#cursor + 1) this.#deliver(message);
        } else {
          await this.#accept(message);
        }
        next++; // only once handled: a failed fill leaves it for the retry
      }
    } finally {
      this.#inbox.splice(0, next);
    }
  }

  async #catchUpToHead(): Promise<void> {
    const { epoch, head } = await this.#source.head();
    if (epoch === undefined) return; // nothing stored; the next publish starts an epoch and #accept switches
    if (epoch !== this.#epoch) this.#switchEpoch(epoch);
    if (head > this.#cursor) await this.#fill(head);
  }

  async #accept(message: BrokerMessage): Promise<void> {
    if (message.epoch !== this.#epoch) {
      const { epoch } = await this.#source.head();
      if (epoch !== message.epoch) return; // a notification of an epoch that is already gone
      this.#switchEpoch(message.epoch);
    }
    if (message.offset <= this.#cursor) return; // already filled from the stream
    // The epoch gone under the fill: its message is lost with it, reported once as the epoch's change.
    if (message.offset > this.#cursor + 1 && !(await this.#fill(message.offset - 1))) return;
    this.#deliver(message);
  }

  /** The channel's metadata was lost and remade: follow the new epoch from its start. */
  #switchEpoch(epoch: string): void {
    this.#epoch = epoch;
    this.#cursor = 0;
  }

  /**
   * Deliver what the stream holds in (cursor, to]. Offsets Redis no longer has
   * are skipped: the jump reaches the client, which resubscribes and gets a
   * typed `gap` (history_exhausted) — never a silent hole.
   * @returns false when the epoch itself is gone (nothing delivered; a catch-up is queued)
   */
  async #fill(to: number): Promise<boolean> {
    const epoch = this.#epoch!;
    const missing = await this.#source.range(this.#cursor + 1, to, epoch);
    // Short, because Redis was flushed (or restarted empty) rather than trimmed: delivering what
    // follows the hole would tell listeners of it as trimmed (`history_exhausted`), then again as the
    // epoch's change. Deliver nothing more of the dead epoch; the catch-up moves to the new one.
    if (missing.length < to - this.#cursor && (await this.#epochGone(epoch))) {
      this.catchUp();
      return false;
    }
    for (const message of missing) {
      if (this.#epoch === epoch && message.offset > this.#cursor) this.#deliver(message);
    }
    return true;
  }

  /** Whether the channel no longer has `epoch` (its metadata is gone or was remade): Redis lost it. */
  async #epochGone(epoch: string): Promise<boolean> {
    return (await this.#source.head()).epoch !== epoch;
  }

  #deliver(message: BrokerMessage): void {
    this.#cursor = message.offset;
    for (const listening of this.#listeners) {
      if (listening.epoch === message.epoch && message.offset <= listening.after) continue;
      try {
        listening.listener(message);
      } catch {
        // One broken subscriber must not stop delivery to the others.
      }
    }
  }
}
