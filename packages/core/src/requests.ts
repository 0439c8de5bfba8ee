import type { Clock } from './clock';
import type { TidewireError } from './errors';
import type { Feature } from './features';
import { missingFeature } from './features';
import type { ClientFrame, PresenceChangeFrame, ServerFrame } from './protocol/frames';
import { encodeFrame } from './protocol/codec';
import { nanoid } from 'nanoid';

/** What the requests of optional capabilities (presence, history) need from the client. */
export interface RequestsHost {
  readonly clock: Clock;
  /** Whether a line is up to send on. */
  canSend(): boolean;
  /** Run `job` when the request pacer allows another frame. */
  schedule(job: () => void): void;
  send(text: string): void;
}

/** How one request's answer (a frame with its id) or refusal (an `error` frame with its id) is taken. */
export interface Answer {
  answer(frame: ServerFrame): void;
  fail(error: TidewireError): void;
}

/** Told when the line comes up (after `connected`), drops, or ends for good. */
export interface LineListener {
  connected(): void;
  disconnected(): void;
  terminated(error: TidewireError): void;
}

/**
 * The client's side of the optional capabilities (protocol §1.1): which ones the server announced,
 * request ids and their answers, line events for whoever must resync after a reconnect, and the
 * unrequested `presence_change` frames by channel. Answers are handed over synchronously, in frame
 * order, so a `presence_snapshot` is applied before the `presence_change` frames that follow it.
 */
export class Requests {
  /** What the server of the current line announced; undefined before the first `connected`. */
  features: readonly string[] | undefined;
  readonly host: RequestsHost;
  readonly #answers = new Map<string, Answer>();
  readonly #line = new Set<LineListener>();
  readonly #changes = new Map<string, (frame: PresenceChangeFrame) => void>();
  /** Why the client ended for good (closed or failed), until it connects again. */
  ended: TidewireError | undefined;

  constructor(host: RequestsHost) {
    this.host = host;
  }

  /** @returns the `unsupported` error when the current server lacks `feature`; undefined when it has it. */
  missing(feature: Feature): TidewireError | undefined {
    return missingFeature(this.features, feature);
  }

  /**
   * Send a request built around a fresh id, through the pacer; its answer or refusal goes to `answer`.
   * @returns the id (pass it to `forget` to drop a late answer)
   */
  send(build: (id: string) => ClientFrame, answer: Answer): string {
    const id = nanoid();
    this.#answers.set(id, answer);
    this.host.schedule(() => {
      if (this.#answers.has(id) && this.host.canSend()) this.host.send(encodeFrame(build(id)));
    });
    return id;
  }

  /** Send a frame that has no answer (`leave`, `presence_unsubscribe`), when there is a line. */
  notify(frame: ClientFrame): void {
    if (this.host.canSend()) this.host.send(encodeFrame(frame));
  }

  forget(id: string): void {
    this.#answers.delete(id);
  }

  /** Listen to line events. @returns the function that stops listening. */
  onLine(listener: LineListener): () => void {
    this.#line.add(listener);
    return () => void this.#line.delete(listener);
  }

  /** Route `presence_change` frames of `channel` to `handler` (one per channel). @returns the function that stops it. */
  onChanges(channel: string, handler: (frame: PresenceChangeFrame) => void): () => void {
    this.#changes.set(channel, handler);
    return () => {
      if (this.#changes.get(channel) === handler) this.#changes.delete(channel);
    };
  }

  connected(features: readonly string[] | undefined): void {
    this.features = features ?? [];
    this.ended = undefined;
    for (const listener of [...this.#line]) listener.connected();
  }

  /** Answers of the old line never come: each listener re-sends on the next one. */
  disconnected(): void {
    this.#answers.clear();
    for (const listener of [...this.#line]) listener.disconnected();
  }

  terminated(error: TidewireError): void {
    this.ended = error;
    this.#answers.clear();
    for (const listener of [...this.#line]) listener.terminated(error);
  }

  /** @returns whether the frame belonged here. */
  onFrame(frame: ServerFrame): boolean {
    if (frame.type === 'presence_change') {
      this.#changes.get(frame.channel)?.(frame);
      return true;
    }
    const id = 'id' in frame ? frame.id : undefined;
    const answer = id === undefined ? undefined : this.#answers.get(id);
    if (!answer) return false;
    this.#answers.delete(id!);
    answer.answer(frame);
    return true;
  }

  /** An `error` frame naming `id`. @returns whether it refused one of these requests. */
  refuse(id: string, error: TidewireError): boolean {
    const answer = this.#answers.get(id);
    if (!answer) return false;
    this.#answers.delete(id);
    answer.fail(error);
    return true;
  }
}
