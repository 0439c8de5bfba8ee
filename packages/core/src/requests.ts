import type { Clock } from './clock';
import { TidewireError } from './errors';
import type { Feature } from './features';
import { missingFeature, sameFeatures } from './features';
import type { ClientFrame, LeftFrame, PresenceChangeFrame, PresenceUnsubscribedFrame, ServerFrame } from './protocol/frames';
import { encodeFrame } from './protocol/codec';
import { nanoid } from 'nanoid';

/** The presence frames the server sends unasked, routed by channel. */
export type PresenceFrame = PresenceChangeFrame | PresenceUnsubscribedFrame | LeftFrame;

/** What the requests of optional capabilities (presence, history) need from the client. */
export interface RequestsHost {
  readonly clock_: Clock;
  /** Whether a line is up to send on. */
  canSend_(): boolean;
  /** Run `job` when the request pacer allows another frame. */
  schedule_(job: () => void): void;
  send_(text: string): void;
}

/** How one request's answer (a frame with its id) or refusal (an `error` frame with its id) is taken. */
export interface Answer {
  answer_(frame: ServerFrame): void;
  fail_(error: TidewireError): void;
  /** The frame went on the line (after its wait in the pacer): where a deadline counted from sending starts. */
  sent_?(): void;
}

/** Told when the line comes up (after `connected`), drops, or ends for good. */
export interface LineListener {
  connected_(): void;
  disconnected_(): void;
  terminated_(error: TidewireError): void;
}

/**
 * The client's side of the optional capabilities (protocol §1.1): which ones the server announced,
 * request ids and their answers, line events for whoever must resync after a reconnect, and the
 * unrequested `presence_change` frames by channel. Answers are handed over synchronously, in frame
 * order, so a `presence_snapshot` is applied before the `presence_change` frames that follow it.
 */
export class Requests {
  /** What the server of the current line announced; undefined before the first `connected`. */
  features_: readonly string[] | undefined;
  readonly host_: RequestsHost;
  /** Made on first use: an idle client with no presence or history request holds none of these. */
  #answers: Map<string, Answer> | undefined;
  #line: Set<LineListener> | undefined;
  #changes: Map<string, (frame: PresenceFrame) => void> | undefined;
  /** Why the client ended for good (closed or failed), until it connects again. */
  ended_: TidewireError | undefined;

  constructor(host: RequestsHost) {
    this.host_ = host;
  }

  /** @returns the `unsupported` error when the current server lacks `feature`; undefined when it has it. */
  missing_(feature: Feature): TidewireError | undefined {
    return missingFeature(this.features_, feature);
  }

  /**
   * Send a request built around a fresh id, through the pacer; its answer or refusal goes to `answer`.
   * @returns the id (pass it to `forget` to drop a late answer)
   */
  send_(build: (id: string) => ClientFrame, answer: Answer): string {
    const id = nanoid();
    (this.#answers ??= new Map()).set(id, answer);
    this.host_.schedule_(() => {
      if (!this.#answers?.has(id) || !this.host_.canSend_()) return;
      const frame = build(id);
      let text: string;
      try {
        text = encodeFrame(frame);
      } catch (cause) {
        // App data (a presence `info`) that JSON cannot encode (a cycle, a BigInt, a throwing toJSON):
        // this request fails, not the pacer job or whatever flushed it.
        this.refuse(id, new TidewireError('bad_request', `${frame.type} data cannot be encoded as JSON`, { cause, context: { id } }));
        return;
      }
      this.host_.send_(text);
      answer.sent_?.();
    });
    return id;
  }

  /** Send a frame that has no answer (`leave`, `presence_unsubscribe`), when there is a line. */
  notify_(frame: ClientFrame): void {
    if (this.host_.canSend_()) this.host_.send_(encodeFrame(frame));
  }

  forget_(id: string): void {
    this.#answers?.delete(id);
  }

  /** Listen to line events. @returns the function that stops listening. */
  onLine_(listener: LineListener): () => void {
    const line = (this.#line ??= new Set());
    line.add(listener);
    return () => void line.delete(listener);
  }

  /** Route the unrequested presence frames of `channel` to `handler` (one per channel). @returns the function that stops it. */
  onChanges_(channel: string, handler: (frame: PresenceFrame) => void): () => void {
    const changes = (this.#changes ??= new Map());
    changes.set(channel, handler);
    return () => {
      if (changes.get(channel) === handler) changes.delete(channel);
    };
  }

  connected_(features: readonly string[] | undefined): void {
    this.features_ = sameFeatures(features);
    this.ended_ = undefined;
    if (this.#line) for (const listener of [...this.#line]) listener.connected_();
  }

  /** Answers of the old line never come: each listener re-sends on the next one. */
  disconnected_(): void {
    this.#answers = undefined;
    if (this.#line) for (const listener of [...this.#line]) listener.disconnected_();
  }

  terminated_(error: TidewireError): void {
    this.ended_ = error;
    this.#answers = undefined;
    if (this.#line) for (const listener of [...this.#line]) listener.terminated_(error);
  }

  /** @returns whether the frame belonged here. */
  onFrame(frame: ServerFrame): boolean {
    if (frame.type === 'presence_change' || frame.type === 'presence_unsubscribed' || frame.type === 'left') {
      this.#changes?.get(frame.channel)?.(frame);
      return true;
    }
    const id = 'id' in frame ? frame.id : undefined;
    const answer = id === undefined ? undefined : this.#answers?.get(id);
    if (!answer) return false;
    this.#answers!.delete(id!);
    answer.answer_(frame);
    return true;
  }

  /** An `error` frame naming `id`. @returns whether it refused one of these requests. */
  /** Whether a request with this id still waits for its answer. */
  has_(id: string): boolean {
    return this.#answers?.has(id) ?? false;
  }

  refuse(id: string, error: TidewireError): boolean {
    const answer = this.#answers?.get(id);
    if (!answer) return false;
    this.#answers!.delete(id);
    answer.fail_(error);
    return true;
  }
}
