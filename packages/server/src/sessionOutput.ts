import { encodeFrame, type ErrorCode, type ServerFrame } from '@tidewire/core/protocol';
import { afterBurst } from './afterBurst';
import type { Link } from './link';
import type { ServerCounters } from './metrics';

/** What a session's output needs from the session. */
export interface SessionOutputHost {
  readonly link: Link;
  /** `limits.maxBufferedBytes`: more than this queued for the client closes it as a slow consumer. */
  readonly maxBufferedBytes: number;
  /** Where traffic is counted; absent: nothing is counted. */
  readonly metrics?: ServerCounters;
  closed(): boolean;
  /** The client cannot keep up: end the session with `slow_consumer`. */
  slowConsumer(message: string): void;
}

/**
 * Everything a session sends to its client: frames and error answers, traffic counters, and the
 * slow-consumer check on what the link still buffers. Nothing is sent once the session is closed.
 */
export class SessionOutput {
  #bufferCheckQueued = false;
  /** Characters sent since the buffered bytes were last checked (see sendText). */
  #charsSinceCheck = 0;
  /** Characters handed to the link so far: minus what it still buffers, what the client has read (liveness by bytes). */
  #charsSent = 0;
  /**
   * Bytes of the largest frame sent since the link last held no more than the limit. One frame is
   * never a backlog by itself: a presence snapshot of a large room, a full history page or an rpc
   * result may alone be larger than `maxBufferedBytes`, and closing its reader as a slow consumer
   * would close it again on every reconnect (it asks again). So what a session may hold is the limit
   * plus its largest frame in flight.
   */
  #largestFrame = 0;

  constructor(private readonly host: SessionOutputHost) {}

  /** Characters handed to the link so far (at least one byte each). */
  get charsSent(): number {
    return this.#charsSent;
  }

  /** An `error` frame answering request `id` (none: about the session), counted as a refusal by `code`. */
  error(id: string | undefined, code: ErrorCode, message: string, retryAfter?: number): void {
    this.host.metrics?.refuse(code);
    this.send({
      type: 'error',
      ...(id !== undefined && { id }),
      code,
      message,
      // Whole ms: the protocol's `retryAfter` is an integer, and a computed wait may not be.
      ...(retryAfter !== undefined && { retryAfter: Math.ceil(retryAfter) }),
    });
  }

  send(frame: ServerFrame): void {
    this.sendText(encodeFrame(frame));
  }

  sendText(text: string): void {
    if (this.host.closed()) return;
    this.host.link.send(text);
    const metrics = this.host.metrics;
    if (metrics) {
      metrics.framesOut++;
      metrics.bytesOut += text.length;
    }
    // A burst that never yields (a publish loop) is also checked every quarter of the limit, so
    // what one session holds stays bounded (≤ 1.25 × maxBufferedBytes) even before the burst ends.
    this.#charsSent += text.length;
    // Measured in bytes (what the link buffers) only when it could matter: a frame of a quarter of the limit or more.
    if (text.length * 3 > this.#largestFrame && text.length * 12 > this.host.maxBufferedBytes) {
      this.#largestFrame = Math.max(this.#largestFrame, Buffer.byteLength(text));
    }
    if ((this.#charsSinceCheck += text.length) > this.host.maxBufferedBytes / 4) this.#closeIfSlow();
    // Once per burst, not per frame: queued after the link's own flush (see afterBurst), so it sees what is still buffered.
    if (!this.#bufferCheckQueued) {
      this.#bufferCheckQueued = true;
      afterBurst(this.#checkBuffered);
    }
  }

  /** Bound once: queued for every burst this session sends in. */
  readonly #checkBuffered = (): void => {
    this.#bufferCheckQueued = false;
    this.#closeIfSlow();
  };

  #closeIfSlow(): void {
    this.#charsSinceCheck = 0;
    if (this.host.closed()) return;
    const max = this.host.maxBufferedBytes;
    const buffered = this.host.link.bufferedBytes();
    if (buffered <= max) this.#largestFrame = 0;
    // It cannot keep up; it will reconnect and recover from its last offset.
    else if (buffered > max + this.#largestFrame) this.host.slowConsumer(`more than ${max} bytes queued for this client`);
  }
}
