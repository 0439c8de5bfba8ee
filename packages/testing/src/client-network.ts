import type { ManualClock } from './manual-clock';
import type { Wire } from './wire';

/** Which way a frame travels. */
export type Direction = 'to_server' | 'to_client';

/** One open line as the faults see it: they can cut it, nothing more. */
export interface CuttableLine {
  /** End both sides at once, as a network failure (no close frame, no code). */
  cut(message: string): void;
}

/**
 * One client's path to the server: the conditions every frame on every line of that client
 * goes through (current and future lines alike — a partition outlasts a reconnect), and the
 * lines open right now. The faults API flips these conditions; the transport obeys them.
 */
export class ClientNetwork {
  readonly lines = new Set<CuttableLine>();
  /** Frames vanish both ways, close events too; lines opened meanwhile never answer. */
  blackholed = false;
  /** Every frame arrives this many ms (kit clock) after it was sent; order is kept. */
  delay = 0;
  /** The next `reorderCount` frames to the client are held and then delivered last-first. */
  #reorderCount = 0;
  #held: (() => void)[] = [];
  /** Per direction, the latest delivery time handed out: a shorter delay set later never overtakes. */
  readonly #notBefore: Record<Direction, number> = { to_server: 0, to_client: 0 };

  constructor(
    private readonly wire: Wire,
    private readonly clock: ManualClock,
  ) {}

  /** @param count frames to hold, then deliver in reverse order (≥ 2 to change anything). */
  reorder(count: number): void {
    this.#reorderCount = count;
    this.#held = [];
  }

  /**
   * Take one crossing through the conditions and deliver it with `deliver`, asynchronously,
   * unless the conditions swallow it.
   * @param kind `frame` for a text frame; `control` for opening and closing, which `reorder` leaves
   *   in place (a line cannot carry frames before it is open)
   */
  transmit(direction: Direction, kind: 'frame' | 'control', deliver: () => void): void {
    if (this.blackholed) return;
    if (direction === 'to_client' && kind === 'frame' && this.#reorderCount > 0) {
      this.#held.push(deliver);
      if (this.#held.length < this.#reorderCount) return;
      const held = this.#held.reverse();
      this.#reorderCount = 0;
      this.#held = [];
      for (const frame of held) this.#send(direction, frame);
      return;
    }
    this.#send(direction, deliver);
  }

  /** Lift every condition; frames held for reordering go out in the order they were sent. */
  heal(): void {
    this.blackholed = false;
    this.delay = 0;
    const held = this.#held;
    this.#reorderCount = 0;
    this.#held = [];
    for (const frame of held) this.#send('to_client', frame);
  }

  #send(direction: Direction, deliver: () => void): void {
    const at = Math.max(this.clock.now() + this.delay, this.#notBefore[direction]);
    this.#notBefore[direction] = at;
    if (at <= this.clock.now()) return this.wire.post(deliver);
    // Timers due at the same instant fire in the order set, so FIFO holds within a direction.
    this.clock.setTimeout(() => this.wire.post(deliver), at - this.clock.now());
  }
}
