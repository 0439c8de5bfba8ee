import { nanoid } from 'nanoid';
import { defaultBackoff, isolatedBackoff } from './backoff';
import type { ClientOptions } from './client-options';
import type { ReportError } from './isolate';
import { encodeFrame } from './protocol/codec';
import type { Requests } from './requests';
import type { ChannelHost } from './shared-channel';

/**
 * What every shared channel needs from the client: the line its requests share (`requests.host_`: paced,
 * sent while connected), the timing options (`reorderWindow` default 1 s, `subscribeTimeout` default
 * 10 s, `backoff` default exponential).
 * @param ownIds with `echo: false`, ids of our own publishes not back yet: their message is skipped (and forgotten)
 * @param report where a channel's problems that end nothing go (the client's `error` event)
 */
export function channelHost(options: ClientOptions, requests: Requests, ownIds: Set<string> | undefined, report: ReportError): ChannelHost {
  const line = requests.host_;
  return {
    ...line,
    reorderWindow_: options.reorderWindow ?? 1000,
    subscribeTimeout_: options.subscribeTimeout ?? 10_000,
    backoff_: isolatedBackoff(options.backoff ?? defaultBackoff, report),
    requests_: requests,
    sendSubscribe_: (channel, since, recent) => {
      const id = nanoid(); // request ids too: one id scheme for everything the client names
      line.send_(encodeFrame({ type: 'subscribe', id, channel, since, recent }));
      return id;
    },
    sendUnsubscribe_: (channel) => line.send_(encodeFrame({ type: 'unsubscribe', channel })),
    report_: report,
    skip_: (frame) => frame.skip || ownIds?.delete(frame.id) === true,
  };
}
