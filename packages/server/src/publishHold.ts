import type { ClientFrame } from '@tidewire/core/protocol';

/**
 * How long past its `retryAfter` a hold waits for the refused publish to come back before it
 * lapses: a client that gave that publish up (its `queueTimeout`) must not be held back forever.
 */
const RETURN_GRACE_MS = 2000;

/** The publish whose refusal holds the session's later publishes back. */
interface Held {
  readonly id: string;
  /** Its arrival number: publishes that arrived before it are not held. */
  readonly seq: number;
  /** When its `retryAfter` ends (what held publishes are told to wait for). */
  until: number;
  /** When the hold ends even if it never comes back. */
  lapses: number;
}

/**
 * Keeps a session's publishes in the order the client sent them across a `rate_limited` refusal
 * (protocol §8). Publishes pipeline: by the time the server refuses one, the client has often
 * sent the next ones, and storing those would let them overtake the refused one when it is sent
 * again. So a `rate_limited` refusal of a publish — from the frame-rate limiter or from
 * `onPublish` — starts a hold: every publish that arrived after it is refused `rate_limited` too
 * (with the time left as `retryAfter`) until the refused publish arrives again (same id) or the
 * hold lapses. Publishes that arrived before it are not held: they were sent before it.
 */
export class PublishHold {
  /** Arrival numbers of the publish frames not yet handled (a frame is keyed by its object). */
  readonly #arrivals = new WeakMap<ClientFrame, number>();
  #arrived = 0;
  #held: Held | undefined;
  readonly #refusedLater: boolean;

  /**
   * @param refusedLater whether a publish can be refused after later ones arrived (an `onPublish` or
   *   `authorize` hook awaits before deciding). Without hooks the only refusal is the frame-rate limit's,
   *   at arrival: a publish with no recorded arrival then arrived before any hold began, so arrivals are
   *   recorded only while a hold is on. Why it matters: a weak entry per publish (an ephemeron write of a
   *   young key) was the server's largest single cost in the pinned RTT profile (issue 14).
   */
  constructor(refusedLater = true) {
    this.#refusedLater = refusedLater;
  }

  /** A frame arrived (call in arrival order, before anything can refuse it); only publishes count. */
  arrive(frame: ClientFrame): void {
    if (frame.type !== 'publish') return;
    const seq = ++this.#arrived;
    if (this.#refusedLater || this.#held) this.#arrivals.set(frame, seq);
  }

  /**
   * This publish was refused `rate_limited`: hold back what arrived after it.
   * @param retryAfter the wait the refusal told the client, in ms
   * @param now the session clock's time
   */
  refused(frame: ClientFrame, retryAfter: number, now: number): void {
    if (frame.type !== 'publish') return;
    const seq = this.#arrivals.get(frame) ?? this.#arrived;
    const until = now + retryAfter;
    const held = this.#held;
    // An earlier refused publish already holds everything after it: keep it, wait for the later end.
    if (held && now < held.lapses && held.seq <= seq) {
      held.until = Math.max(held.until, until);
      held.lapses = Math.max(held.lapses, until + RETURN_GRACE_MS);
      return;
    }
    this.#held = { id: frame.id, seq, until, lapses: until + RETURN_GRACE_MS };
  }

  /**
   * Whether this publish, about to be handled, must wait.
   * @returns the ms it must wait (its `retryAfter`, at least 1), or 0 when it may go on
   */
  wait(frame: ClientFrame, now: number): number {
    const held = this.#held;
    if (!held || frame.type !== 'publish') return 0;
    if (now >= held.lapses) {
      this.#held = undefined;
      return 0;
    }
    const seq = this.#arrivals.get(frame);
    if (seq === undefined || seq <= held.seq) return 0; // sent before the refused one (or is it)
    if (frame.id === held.id) {
      this.#held = undefined; // it came back: in order again, what follows it may go on
      return 0;
    }
    return Math.max(1, held.until - now);
  }
}
