import { ProtocolError, RequestError, TidewireError } from './errors';
import { HINT_MAX_DELAY } from './retry-policy';
import type { MetricsCounters } from './metrics';
import type { Outbox } from './outbox';
import type { PayloadCodec } from './payload-codec';
import type { ErrorFrame, ServerFrame } from './protocol/frames';
import type { RequestPacer } from './request-pacer';
import type { Requests } from './requests';
import type { SharedChannel } from './shared-channel';
import { decodeFrame } from './codec-calls';

/** The client's channels, as the router reads them (see ChannelTable). */
type Channels = Pick<ReadonlyMap<string, SharedChannel>, 'get' | 'values'>;

/**
 * Hand a server frame to the part of the client that owns its kind: messages to their channel,
 * acks and rpc results to the outbox, subscribe answers to the channel awaiting them, refusals
 * to whatever request they name (no outbox yet: the client has published nothing), presence and history answers to `requests`. Plain arguments
 * rather than an object of the client's parts: esbuild shortens them, not an object's keys.
 * @param counts the connection's counters (`recovered`, `gaps` are bumped here)
 * @param codec decodes payloads (message, rpc result, history page) first; none: JSON as it is
 * @param report where a refusal that names no pending request goes (the client's `error` event)
 */
export function routeFrame(frame: ServerFrame, channels: Channels, outbox: Outbox | undefined, requests: Requests, pacer: RequestPacer, counts: MetricsCounters, codec: PayloadCodec | undefined, report: (error: TidewireError) => void): void {
  // Payloads (message, rpc result, history page) are decoded once, here, before anything looks at them.
  // The codec is app code: a message it fails on is consumed at its offset and reported (see
  // unusable-message.ts); an rpc result or history page it fails on rejects that request.
  if (codec) {
    const decoded = decodeFrame(frame, codec);
    if (decoded instanceof TidewireError) {
      const { id } = frame as { id: string };
      if (!outbox?.refuse(id, decoded) && !requests.refuse(id, decoded)) report(decoded);
      return;
    }
    frame = decoded;
  }
  switch (frame.type) {
    case 'message':
      channels.get(frame.channel)?.onMessage(frame);
      return;
    // An answer settles only the kind of request it answers: an rpc's `result` naming a pending publish
    // (or an `ack` naming an rpc) is the server's mistake, reported, and the request waits for its own.
    case 'ack':
      if (answers(outbox, frame, 'publish:', report)) outbox!.ack(frame);
      return;
    case 'result':
      if (answers(outbox, frame, 'rpc:', report)) outbox!.answer(frame.id, frame.data);
      return;
    case 'subscribed': {
      const channel = channels.get(frame.channel);
      if (channel?.isAwaiting(frame.id)) {
        // A resubscribe from a position: bridged from history, or a gap.
        if (channel.position) counts[frame.recovered ? 'recovered' : 'gaps']++;
        channel.onSubscribed(frame);
      }
      return;
    }
    case 'unsubscribed': {
      const error = new RequestError(frame.code, frame.message, { context: { channel: frame.channel } });
      channels.get(frame.channel)?.onRefused(error);
      return;
    }
    case 'error':
      return routeErrorFrame(frame, channels, outbox, requests, pacer, report);
    default:
      requests.onFrame(frame); // presence and history answers
      return;
  }
}

/** Whether the outbox's request named by `frame` (if any) is of the kind `target` names (`publish:` or `rpc:`); reports it when not. */
function answers(outbox: Outbox | undefined, frame: { type: string; id: string }, target: string, report: (error: TidewireError) => void): boolean {
  const { id } = frame;
  const pending = outbox?.targetOf_(id);
  if (pending === undefined || pending.startsWith(target)) return outbox !== undefined;
  report(new ProtocolError('invalid_frame', `the server answered the ${pending.split(':')[0]} "${id}" with a "${frame.type}" frame`, { context: { id } }));
  return false;
}

/**
 * A refusal: settle the request it names (a publish, an rpc, a presence/history request or a subscribe), else report it.
 * A `rate_limited` publish or subscribe is retried and also reported (`client.on('error')`, code `rate_limited`).
 */
function routeErrorFrame(frame: ErrorFrame, channels: Channels, outbox: Outbox | undefined, requests: Requests, pacer: RequestPacer, report: (error: TidewireError) => void): void {
  const error = new RequestError(frame.code, frame.message, { context: { id: frame.id, retryAfter: frame.retryAfter, appCode: frame.appCode } });
  const { id } = frame;
  // Over the rate: requests wait `retryAfter` (paused before the refused one is queued again), then go
  // again — a refused publish (or rpc) holds back the outbox's sends only (the server holds the later
  // publishes too), any other request every request.
  const limited = frame.code === 'rate_limited';
  const wait = Math.min(frame.retryAfter ?? 1000, HINT_MAX_DELAY); // refused again after that if still too early
  if (id === undefined) {
    if (limited) pacer.pause(wait); // a refusal naming no request: the connection's rate
  } else if (outbox?.targetOf_(id) !== undefined) {
    // A rate-limited publish is retried, never rejected: reported, so the app can tell it is held back.
    if (!limited) return void outbox.refuse(id, error);
    pacer.pause(wait, outbox.sendJob_);
    outbox.retry(id);
  } else if (requests.has_(id)) {
    if (limited) pacer.pause(wait);
    return void requests.refuse(id, error);
  } else {
    // Not a publish, so maybe a subscribe: the only other request refused without naming its channel.
    const channel = [...channels.values()].find((c) => c.isAwaiting(id));
    if (channel) {
      // Refusals that may pass later retry (a rate limit at once, behind the paused pacer; server trouble after backoff).
      if (limited) {
        pacer.pause(wait);
        channel.onRetryable(error, 0);
      } else if (frame.code === 'server_error') channel.onRetryable(error);
      else channel.onRefused(error);
      return;
    }
    // The answer to a request no longer pending (cancelled, timed out, settled): nothing waits on it, nothing pauses.
  }
  report(error);
}

