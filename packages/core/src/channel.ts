import { Emitter } from './emitter';
import type { ChannelMessage, ChannelSnapshot, GapInfo } from './channel-state';
import type { TidewireError } from './errors';
import { ValidationError } from './errors';
import type { MessageFrame, Position } from './protocol/frames';
import type { PublishResult } from './outbox';
import type { PublishOptions } from './publish-options';
import type { StandardSchemaV1 } from './schema';
import { validateSync } from './schema';
import type { ChannelSink, SharedChannel } from './shared-channel';

export interface ChannelEvents<T> {
  message: (message: ChannelMessage<T>) => void;
  /** History could not cover what was missed: reload state from your source of truth. */
  gap: (info: GapInfo) => void;
  error: (error: TidewireError) => void;
}

export interface ChannelOptions<T> {
  /** Validates inbound and outbound data; also gives the channel its type. */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * Deliver everything after this position (the server replays it from history), e.g. the
   * position a server-rendered snapshot was taken at; a `gap` fires if history no longer has it.
   * Applies when the channel is first acquired; later handles share the running subscription.
   */
  since?: Position;
}

type Publisher = (channel: string, data: unknown, options?: PublishOptions) => Promise<PublishResult>;

/**
 * The app's handle on a channel. Handles on the same name share one server
 * subscription; each handle owns its listeners, and `unsubscribe()` drops
 * them and releases this handle's reference (the last release unsubscribes).
 */
export class Channel<T = unknown> implements ChannelSink {
  readonly #events = new Emitter<ChannelEvents<T>>();
  readonly #shared: SharedChannel;
  readonly #publish: Publisher;
  readonly #release: (shared: SharedChannel, handle: ChannelSink) => void;
  readonly #schema: StandardSchemaV1<unknown, T> | undefined;
  #released = false;

  constructor(
    shared: SharedChannel,
    publish: Publisher,
    release: (shared: SharedChannel, handle: ChannelSink) => void,
    schema?: StandardSchemaV1<unknown, T>,
  ) {
    this.#shared = shared;
    this.#publish = publish;
    this.#release = release;
    this.#schema = schema;
  }

  get name(): string {
    return this.#shared.name;
  }

  /** The last position delivered to the app; pass it as `since` to resume elsewhere. */
  get position(): Position | undefined {
    return this.#shared.position;
  }

  getSnapshot = (): ChannelSnapshot => this.#shared.getSnapshot();
  subscribe = (listener: () => void): (() => void) => this.#shared.subscribe(listener);

  on<E extends keyof ChannelEvents<T>>(event: E, listener: ChannelEvents<T>[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves with the server-assigned position once stored; rejects with a TidewireError. */
  publish(data: T, options?: PublishOptions): Promise<PublishResult> {
    if (this.#schema) {
      const result = validateSync(this.#schema, data);
      if (result.issues) return Promise.reject(this.#invalid(result.issues, 'outbound'));
    }
    return this.#publish(this.name, data, options);
  }

  /** Subscribe again from the last position: how a `failed` channel (e.g. `forbidden` until a permission changes) recovers. */
  resubscribe(): void {
    this.#shared.retry();
  }

  /** Drop this handle's listeners and its reference to the subscription. Idempotent. */
  unsubscribe(): void {
    if (this.#released) return;
    this.#released = true;
    this.#events.clear();
    this.#release(this.#shared, this);
  }

  deliver(frame: MessageFrame): void {
    if (!this.#schema) {
      this.#events.emit('message', frame as ChannelMessage<T>);
      return;
    }
    const result = validateSync(this.#schema, frame.data);
    if (result.issues) {
      // The message is consumed (its offset advances) but reported, never silently dropped.
      this.error(this.#invalid(result.issues, 'inbound', frame));
      return;
    }
    this.#events.emit('message', { ...frame, data: result.value as T });
  }

  gap(info: GapInfo): void {
    this.#events.emit('gap', info);
  }

  error(error: TidewireError): void {
    this.#events.emit('error', error);
  }

  #invalid(issues: ReadonlyArray<{ message: string }>, direction: string, frame?: MessageFrame): ValidationError {
    return new ValidationError('validation_failed', `${direction} data on "${this.name}" failed its schema: ${issues.map((i) => i.message).join('; ')}`, {
      context: { channel: this.name, issues, ...(frame ? { offset: frame.offset, id: frame.id, data: frame.data } : {}) },
    });
  }
}
