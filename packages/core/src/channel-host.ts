import { nanoid } from 'nanoid';
import { exponentialBackoff, isolatedBackoff } from './backoff';
import type { ClientOptions } from './client-options';
import type { Clock } from './clock';
import type { Connection } from './connection';
import type { ReportError } from './isolate';
import { encodeFrame } from './protocol/codec';
import type { RequestPacer } from './request-pacer';
import type { Requests } from './requests';
import type { ChannelHost } from './shared-channel';

/**
 * What every shared channel needs from the client: the line, the pacer, the timing options
 * (`reorderWindow` default 1 s, `subscribeTimeout` default 10 s, `backoff` default exponential).
 * @param ownIds with `echo: false`, ids of our own publishes not back yet: their message is skipped (and forgotten)
 * @param report where a channel's problems that end nothing go (the client's `error` event)
 */
export function channelHost(
  options: ClientOptions,
  clock: Clock,
  connection: Connection,
  pacer: RequestPacer,
  requests: Requests,
  ownIds: Set<string> | undefined,
  report: ReportError,
): ChannelHost {
  return {
    clock_: clock,
    reorderWindow_: options.reorderWindow ?? 1000,
    subscribeTimeout_: options.subscribeTimeout ?? 10_000,
    backoff_: isolatedBackoff(options.backoff ?? exponentialBackoff(), report),
    canSend_: () => connection.state_ === 'connected',
    schedule_: (job) => pacer.enqueue_(job),
    requests_: requests,
    sendSubscribe_: (channel, since, recent) => {
      const id = nanoid(); // request ids too: one id scheme for everything the client names
      connection.send_(encodeFrame({ type: 'subscribe', id, channel, since, recent }));
      return id;
    },
    sendUnsubscribe_: (channel) => connection.send_(encodeFrame({ type: 'unsubscribe', channel })),
    report_: report,
    skip_: (frame) => frame.skip || ownIds?.delete(frame.id) === true,
  };
}
