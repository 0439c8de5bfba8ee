import { nanoid } from 'nanoid';
import type { Backoff } from './backoff';
import { defaultBackoff, isolatedBackoff } from './backoff';
import type { ClientEvents, ClientOptions } from './client-options';
import { choosePlan } from './client-options';
import type { Clock } from './clock';
import { systemClock } from './clock';
import type { Client } from './client';
import { Connection } from './connection';
import type { ConnectionHandler } from './connection-options';
import type { StateChange } from './connection-state';
import type { TidewireError } from './errors';
import { routeFrame } from './frame-router';
import type { ReportError } from './isolate';
import { reportThrow } from './isolate';
import type { OutboxOptions } from './outbox';
import { Outbox } from './outbox';
import type { PendingEvents } from './pending-publishes';
import { PendingPublishes } from './pending-publishes';
import { fitsByteLimit, encodeFrame } from './protocol/codec';
import { messageKey, type ConnectedFrame, type MessageFrame, type Position, type ServerFrame } from './protocol/frames';
import { RequestPacer } from './request-pacer';
import { Requests } from './requests';
import type { ChannelHost, ChannelSink, SharedChannel } from './shared-channel';
import type { ChannelOwner } from './channel';
import type { PublishResult } from './outbox';
import type { PublishOptions } from './publish-options';
import { Timer } from './clock';
import { tokenSource } from './token';
import { ChannelTable } from './channel-table';

/**
 * How the host raises an event of its client (whose `emit` is protected): one function for every
 * client, given the client, rather than a closure per client (bench/idle-heap.ts).
 */
export type EmitClientEvent = <E extends keyof ClientEvents>(client: Client, event: E, ...args: Parameters<ClientEvents[E]>) => void;

/**
 * The parts of one client and what they need from each other: the connection (lifecycle), the
 * outbox (publish contract), the request pacer, the requests of optional capabilities and the
 * shared channels (delivery contract). It is, with its methods, the line every part sends on
 * (`RequestsHost`), the connection's handler, every channel's host and the outbox's options — one
 * object rather than a closure per callback, because what an idle client holds is mostly what it
 * is wired with (docs/benchmarks.md, "Idle client memory"). `Client` is the public face of it.
 */
export class ClientHost implements ConnectionHandler, ChannelHost, OutboxOptions, PendingEvents, ChannelOwner {
  readonly clock_: Clock;
  readonly options_: ClientOptions;
  readonly connection_: Connection;
  /** Made on the first publish (see `outbox_`): a client that only listens holds none. */
  #outbox: Outbox | undefined;
  /** One token bucket for every request frame, sized from the server's announced limits. */
  readonly pacer_: RequestPacer;
  /** Requests of the optional capabilities (presence, history) and what the server announced. */
  readonly requests_: Requests;
  readonly channels_ = new ChannelTable();
  /** Pending publishes as the app lists them, mirrored into `outboxStorage`; made with the outbox. */
  #pending: PendingPublishes | undefined;
  /** With `echo: false`: ids of our own publishes whose message has not come back yet. */
  readonly ownIds_: Set<string> | undefined;
  /** The server's announced limit; none before its first `connected` (the outbox checks again when it sends). */
  maxPayload_ = Infinity;
  /**
   * Between letting go of a line and taking the next: a switch of transports keeps the state
   * `connected` throughout, and app code that runs meanwhile (a channel's state listener) must wait
   * for the new line like the rest, not overtake what was in flight on the old one.
   */
  #between = false;
  /** The release timer of each channel whose last handle was released (see release_); made on first release. */
  #releases: Map<SharedChannel, Timer> | undefined;
  /** Where problems that end nothing go: the client's `error` event. */
  readonly onError_: ReportError;
  readonly report_: ReportError;
  readonly #emit: EmitClientEvent;
  readonly #backoff: Backoff;
  readonly #client: Client;

  /**
   * @param options the client's options, `url` already resolved
   * @param emit raises the client's events
   * @param client where a channel handle's `publish` goes, and whose events `emit` raises
   */
  constructor(options: ClientOptions, emit: EmitClientEvent, client: Client) {
    this.options_ = options;
    this.#emit = emit;
    this.#client = client;
    this.onError_ = this.report_ = (error) => emit(client, 'error', error);
    if (options.echo === false) this.ownIds_ = new Set();
    const clock = (this.clock_ = options.clock ?? systemClock);
    // The default backoff cannot throw: only the app's own is isolated.
    this.#backoff = options.backoff ? isolatedBackoff(options.backoff, this.report_) : defaultBackoff;
    // (the connection takes it as it is: isolated here once for both)
    this.pacer_ = new RequestPacer(clock);
    this.requests_ = new Requests(this);
    this.connection_ = new Connection({
      plan_: choosePlan(options),
      tokens_: tokenSource(options.token, options.getToken),
      clock_: clock,
      backoff_: this.#backoff,
      connectTimeout_: options.connectTimeout ?? 5000,
      context_: options, // its `url`, `WebSocket` and `fetch`
      handler_: this,
    });
  }

  get outbox_(): Outbox {
    return (this.#outbox ??= new Outbox(this));
  }

  get pending_(): PendingPublishes {
    return (this.#pending ??= new PendingPublishes(this.options_.outboxStorage, this));
  }

  get reorderWindow_(): number {
    return this.options_.reorderWindow ?? 1000;
  }

  get subscribeTimeout_(): number {
    return this.options_.subscribeTimeout ?? 10_000;
  }

  get publishTimeout_(): number {
    return this.options_.publishTimeout ?? 10_000;
  }

  get queueTimeout_(): number {
    return this.options_.queueTimeout ?? 300_000;
  }

  get maxSize_(): number {
    return this.options_.maxQueue ?? 1000;
  }

  // The line (RequestsHost): what the outbox, channels and capabilities send on.

  canSend_(): boolean {
    return !this.#between && this.connection_.state_ === 'connected';
  }

  schedule_(job: () => void): void {
    this.pacer_.enqueue_(job);
  }

  send_(text: string): void {
    this.connection_.send_(text);
  }

  // The connection's handler.

  onStateChange_(change: StateChange): void {
    this.#emit(this.#client, 'state', change);
  }

  onConnected_(frame: ConnectedFrame): void {
    this.#between = false;
    this.maxPayload_ = frame.maxPayload;
    this.pacer_.reset_(frame.limits);
    this.requests_.connected_(frame.features); // first: resubscribes check the features
    // Each step sends; the line may die under one of them (then the next line does the rest).
    for (const channel of this.channels_.values()) if (this.canSend_()) channel.resubscribe_();
    if (this.canSend_()) this.#outbox?.flush_();
  }

  onFrame_(frame: ServerFrame): void {
    routeFrame(frame, this.channels_, this.#outbox, this.requests_, this.pacer_, this.connection_.counts_, this.options_.codec, this.report_);
  }

  onDisconnected_(): void {
    this.#between = true;
    this.#lineDown();
    this.#outbox?.requeue_();
    this.requests_.disconnected_();
  }

  onTerminated_(error: TidewireError): void {
    // What ends the old line's work first, the channels (whose listeners are app code) last: a
    // listener that reopens the client must find nothing left that would end its new work.
    this.pacer_.clear_();
    if (this.#pending) this.#pending.ended_ = error; // closed or failed: stored publishes wait for the next start
    this.#outbox?.failAll_(error);
    for (const shared of [...(this.#releases?.keys() ?? [])]) this.#dispose(shared); // no timer outlives close()
    this.requests_.terminated_(error);
    for (const channel of this.channels_.values()) channel.suspend_();
  }

  busy_(): boolean {
    return this.#outbox?.busy_() === true;
  }

  /** The outbox depth, for the metrics. */
  queued_(): number {
    return this.#outbox?.size_ ?? 0;
  }

  // Every shared channel's host.

  backoff_(attempt: number): number {
    return this.#backoff(attempt);
  }

  sendSubscribe_(channel: string, since: Position | undefined, recent?: number): string {
    const id = nanoid(); // request ids too: one id scheme for everything the client names
    this.send_(encodeFrame({ type: 'subscribe', id, channel, since, recent }));
    return id;
  }

  sendUnsubscribe_(channel: string): void {
    this.send_(encodeFrame({ type: 'unsubscribe', channel }));
  }

  skip_(frame: MessageFrame): boolean {
    return frame.skip || this.ownIds_?.delete(messageKey(frame.channel, frame.id)) === true;
  }

  // The outbox's limits.

  fits_(text: string): boolean {
    return fitsByteLimit(text, this.maxPayload_);
  }

  limitText_(): string {
    return `${this.maxPayload_} bytes`;
  }

  // The pending publishes' events.

  storageFailed_(cause: unknown): void {
    reportThrow(this.report_, 'outboxStorage', cause); // context.callback names it, as every app-code failure
  }

  pendingChanged_(): void {
    this.#emit(this.#client, 'pending');
  }

  // Every channel handle's owner.

  publish(channel: string, data: unknown, options?: PublishOptions): Promise<PublishResult> {
    return this.#client.publish(channel, data, options);
  }

  /** A handle was released: the last one unsubscribes, one tick late, so a StrictMode unmount/remount or a quick re-render reuses the subscription. */
  release_(shared: SharedChannel, handle: ChannelSink): void {
    shared.sinks_ = shared.sinks_.filter((sink) => sink !== handle);
    // One timer per channel: a release after a re-acquire waits the whole delay again, and close() stops it.
    const releases = (this.#releases ??= new Map());
    if (!releases.has(shared)) releases.set(shared, new Timer(this.clock_));
    releases.get(shared)!.start_(this.options_.releaseDelay ?? 0, () => this.#dispose(shared));
  }

  /** The release delay is over (or the client ended): a channel no handle holds goes. */
  #dispose(shared: SharedChannel): void {
    this.#releases?.get(shared)!.stop_();
    this.#releases?.delete(shared);
    if (shared.sinks_.length > 0 || this.channels_.get(shared.name) !== shared) return;
    this.channels_.delete(shared.name);
    shared.dispose_();
    if (this.canSend_()) this.sendUnsubscribe_(shared.name);
  }

  /** The line is gone (for now or for good): queued jobs are for it, and channels resubscribe on the next one. */
  #lineDown(): void {
    this.pacer_.clear_();
    for (const channel of this.channels_.values()) channel.suspend_();
  }
}
