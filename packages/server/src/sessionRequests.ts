import type { ErrorCode, PublishFrame, ServerFrame, SubscribeFrame } from '@tidewire/core/protocol';
import type { Broker, PublishInput, PublishResult } from './broker/broker';
import type { Clock } from './clock';
import { elapsed } from './clock';
import { callHook } from './hookDeadline';
import type { AuthorizeContext, Logger, SessionInfo } from './hooks';
import type { ServerCounters } from './metrics';
import type { ResolvedOptions } from './options';
import { resolveRecent } from './historyRequest';
import type { PublishPipeline } from './publishPipeline';
import { decidePublish } from './publishHook';
import { clientScope } from './publisherScope';
import type { PublishHold } from './publishHold';
import type { SessionSubscriptions } from './subscriptions';

/** What the channel gate and a client publish need from the session. */
export interface ChannelRequestContext {
  readonly options: ResolvedOptions;
  readonly broker: Broker;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Where publishes are counted; absent: nothing is counted. */
  readonly metrics?: ServerCounters;
  user(): unknown;
  info(): SessionInfo;
  closed(): boolean;
  error(id: string | undefined, code: ErrorCode, message: string, retryAfter?: number): void;
  send(frame: ServerFrame): void;
  /** Holds publishes back behind one refused `rate_limited` (publishHold.ts); absent: none are. */
  readonly hold?: PublishHold;
}

/** What a channel request is, for `authorize` (a history read asks as `subscribe`) and for its refusal's message. */
export type ChannelRequest = AuthorizeContext['action'] | 'history';

/**
 * Common gate for subscribe and publish (and presence, history): channel name, then the authorize
 * hook (with its deadline). Answers a refusal itself.
 * @returns true when the request may go on.
 * @throws what a throwing `authorize` threw (the session answers `server_error` and logs it).
 */
export async function permitChannel(ctx: ChannelRequestContext, id: string, channel: string, request: ChannelRequest): Promise<boolean> {
  const { options, clock } = ctx;
  // Reading history is authorized as `subscribe` (whoever may follow a channel may read its past),
  // but what was refused, and what the client and the log are told, is the history read.
  const action = request === 'history' ? 'subscribe' : request;
  const what = request === 'history' ? `history of "${channel}"` : `${action} to "${channel}"`;
  const { isChannel, authorize } = options;
  if (!isChannel(channel)) {
    ctx.error(id, 'unknown_channel', `invalid channel name`);
    return false;
  }
  if (!authorize) return true;
  const outcome = await callHook(() => authorize({ user: ctx.user(), channel, action, session: ctx.info() }), options.hookTimeout, clock);
  if (ctx.closed()) return false;
  if (outcome.kind === 'threw') throw outcome.error; // answered `server_error` by the session's queue, and logged
  if (outcome.kind === 'timed_out') {
    ctx.logger.error(`tidewire: authorize() did not answer within ${options.hookTimeout} ms (${what})`);
    ctx.error(id, 'server_error', `authorize() did not answer within ${options.hookTimeout} ms`);
    return false;
  }
  if (outcome.value !== true) ctx.error(id, 'forbidden', `${what} is not allowed`);
  return outcome.value === true;
}

/**
 * A client's subscribe: at most `limits.maxSubscriptions` channels per session (a resubscribe to a
 * held channel always passes), then the gate, then the subscription (with `recent` resolved).
 * A resubscribe replaces the subscription held: refused (or failing in the gate), it ends that one
 * too — `authorize` runs on every resubscribe so that losing access takes effect there.
 * @throws what the broker throws (the session answers `server_error`).
 */
export async function subscribeFromClient(ctx: ChannelRequestContext, subs: SessionSubscriptions, frame: SubscribeFrame): Promise<void> {
  const { maxSubscriptions } = ctx.options.limits;
  if (!subs.has(frame.channel) && subs.size >= maxSubscriptions) {
    return ctx.error(frame.id, 'forbidden', `a session may hold at most ${maxSubscriptions} subscriptions (maxSubscriptions)`);
  }
  if (!(await permitReplacing(ctx, frame.id, frame.channel, 'subscribe', () => subs.unsubscribe(frame.channel)))) return;
  return subs.subscribe(await resolveRecent(ctx.broker, frame));
}

/**
 * {@link permitChannel} for a request that replaces what the session holds on the channel (a
 * resubscribe, a new presence watch, entering again): refused — or the hook throwing — `drop`
 * ends what it would have replaced, so no stream outlives a refusal of the same request.
 * @returns whether it may go on
 * @throws what `authorize` throws, after `drop`
 */
export async function permitReplacing(ctx: ChannelRequestContext, id: string, channel: string, action: ChannelRequest, drop: () => void): Promise<boolean> {
  let permitted = false;
  try {
    permitted = await permitChannel(ctx, id, channel, action);
    return permitted;
  } finally {
    if (!permitted) drop();
  }
}

/** How a session hands a publish to a broker that stores in call order (publishPipeline.ts). */
type PipelineHandoff = { readonly queue: PublishPipeline; fail(error: unknown): void };

/**
 * A client's publish: the gate, then `onPublish`, then the broker; answered `ack` with where it was stored.
 * Without `authorize` and `onPublish` nothing needs awaiting before the broker: the publish is handed
 * over in the caller's synchronous step (no promise of its own per publish, the RTT path of issue 14).
 * @param bytes - the frame's text length, kept with the message so history can be bounded by bytes.
 * @param pipeline - when given (the broker stores in call order), the publish is handed to the broker and
 *   answered through it, in order, without waiting for the store here; `fail` answers a broker failure.
 * @returns resolves once the publish is answered — or, with a pipeline, once the broker has it (and the
 *   pipeline has room for the next); undefined when that is already so
 * @throws what the broker throws, without a pipeline (the session answers `server_error`).
 */
export function publishFromClient(ctx: ChannelRequestContext, frame: PublishFrame, bytes: number, pipeline?: PipelineHandoff): Promise<void> | void {
  const { id, channel, data } = frame;
  // Sent after a publish that was refused `rate_limited` and has not come back: storing it would let it overtake that one.
  const held = ctx.hold?.wait(frame, elapsed(ctx.clock)) ?? 0;
  if (held > 0) return ctx.error(id, 'rate_limited', 'held back behind an earlier publish refused rate_limited', held);
  const { options } = ctx;
  if (options.authorize || options.onPublish) return publishThroughHooks(ctx, frame, bytes, pipeline);
  // permitChannel without a hook: only the name is checked.
  if (!options.isChannel(channel)) return ctx.error(id, 'unknown_channel', `invalid channel name`);
  return store(ctx, channel, { id, data, bytes, scope: clientScope(ctx.user()) }, pipeline);
}

/** The gate with its `authorize` and `onPublish` hooks awaited, then the store. */
async function publishThroughHooks(ctx: ChannelRequestContext, frame: PublishFrame, bytes: number, pipeline?: PipelineHandoff): Promise<void> {
  const { id, channel, data } = frame;
  if (!(await permitChannel(ctx, id, channel, 'publish'))) return;
  const { options, clock, logger } = ctx;
  const decision = await decidePublish(options.onPublish, { user: ctx.user(), channel, data, session: ctx.info() }, { clock, logger, timeout: options.hookTimeout, maxDepth: options.limits.maxDepth });
  if (ctx.closed()) return;
  if (!decision.ok) {
    const retryAfter = decision.code === 'rate_limited' ? (decision.retryAfter ?? 1000) : undefined;
    if (retryAfter !== undefined) ctx.hold?.refused(frame, retryAfter, elapsed(clock));
    return ctx.error(id, decision.code, decision.message, retryAfter);
  }
  // A transformed message is counted at its new size (history is bounded by bytes).
  const scope = clientScope(ctx.user());
  const stored = decision.data === data ? { id, data, bytes, scope } : { id, data: decision.data, bytes: JSON.stringify(decision.data)?.length ?? 0, scope };
  return store(ctx, channel, stored, pipeline);
}

/** Hand `stored` to the broker and answer `ack` once it is stored (through the pipeline when there is one). */
function store(ctx: ChannelRequestContext, channel: string, stored: PublishInput, pipeline: PipelineHandoff | undefined): Promise<void> | undefined {
  const startedAt = performance.now();
  const ack = (result: PublishResult): void => {
    ctx.metrics?.published(startedAt);
    ctx.send({ type: 'ack', id: stored.id, epoch: result.epoch, offset: result.offset });
  };
  if (!pipeline) return ctx.broker.publish(channel, stored).then(ack);
  let storing: Promise<PublishResult>;
  try {
    storing = ctx.broker.publish(channel, stored);
  } catch (e) {
    storing = Promise.reject(e); // a broker that throws instead of rejecting is answered the same way
  }
  return pipeline.queue.add(storing, ack, pipeline.fail);
}

/** The `retryAfter` (ms) an error carries when its source knows the outage will pass (e.g. RedisBrokerError). */
export function retryAfterOf(error: unknown): number | undefined {
  const value = typeof error === 'object' && error !== null ? (error as { retryAfter?: unknown }).retryAfter : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, Math.round(value)) : undefined;
}
