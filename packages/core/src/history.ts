import type { ChannelMessage } from './channel-state';
import { Timer } from './clock';
import type { TidewireError } from './errors';
import { TimeoutError } from './errors';
import type { HistoryPageFrame } from './protocol/frames';
import type { LineListener, Requests } from './requests';

/** What `channel.history(options)` takes. Offsets are of the channel's current epoch. */
export interface HistoryOptions {
  /**
   * Most messages in the page. Default 50; the server caps it (reference server: 1,000). `0` reads
   * only the page's `epoch`, `head` and `hasMore` (whether any message is stored in that direction).
   */
  limit?: number;
  /** Only messages with an offset below this one (exclusive). */
  before?: number;
  /** Only messages with an offset above this one (exclusive). */
  after?: number;
  /** `backward` (default): newest first; `forward`: oldest first. */
  direction?: 'backward' | 'forward';
}

/** One page of a channel's stored messages, from `channel.history()`. */
export interface HistoryPage<T = unknown> {
  /** In the order asked for, each with its position (`epoch`, `offset`). */
  readonly messages: readonly ChannelMessage<T>[];
  /** The epoch every message of the page belongs to. */
  readonly epoch: string;
  /** The channel's newest offset when the page was read (0: none yet). */
  readonly head: number;
  /** Whether stored messages remain past this page, in its direction. */
  readonly hasMore: boolean;
  /** The next page in the same direction (undefined when `hasMore` is false or the page is empty, as with `limit: 0`). */
  next(): Promise<HistoryPage<T>> | undefined;
}

/** How long a sent history request may go unanswered before it rejects with `timeout` (ms). */
export const HISTORY_TIMEOUT = 10_000;

/**
 * Read one page of a channel's history (capability `history`, protocol §15.1). Waits for a line
 * when there is none (a request lost with a line is sent again on the next one).
 * @param requests the client's requests of optional capabilities
 * @param channel the channel name
 * @param options bounds, limit and direction
 * @returns the page
 * @throws (rejects) `unsupported` (the server lacks history), `closed`, `timeout` (no answer
 *   within 10 s of sending), or the server's refusal (`forbidden`, `unknown_channel`, `rate_limited`…)
 */
export function fetchHistory<T>(requests: Requests, channel: string, options: HistoryOptions = {}): Promise<HistoryPage<T>> {
  const { limit = 50, before, after, direction = 'backward' } = options;
  return new Promise<HistoryPage<T>>((resolve, reject) => {
    const deadline = new Timer(requests.host_.clock_);
    let id: string | undefined;
    const settle = (error: TidewireError | undefined, frame?: HistoryPageFrame): void => {
      stop();
      deadline.stop_();
      if (id !== undefined) requests.forget_(id);
      if (error) return reject(error);
      resolve(toPage<T>(requests, frame!, options));
    };
    const line: LineListener = {
      connected_() {
        const missing = requests.missing_('history');
        if (missing) return settle(missing);
        id = requests.send_((requestId) => ({ type: 'history', id: requestId, channel, limit, before, after, direction }), {
          answer_: (frame) => (frame.type === 'history_page' ? settle(undefined, frame) : undefined),
          fail_: (error) => settle(error),
          // Counted from sending (docs/client.md), not from the wait in the pacer before it.
          sent_: () => deadline.start_(HISTORY_TIMEOUT, () => settle(new TimeoutError('timeout', `no history of "${channel}" within ${HISTORY_TIMEOUT} ms of sending`, { context: { channel } }))),
        });
      },
      disconnected_: () => deadline.stop_(), // sent again when the line is back
      terminated_: (error) => settle(error),
    };
    const stop = requests.onLine_(line);
    if (requests.ended_) settle(requests.ended_);
    else if (requests.features_ && requests.host_.canSend_()) line.connected_();
  });
}

function toPage<T>(requests: Requests, frame: HistoryPageFrame, options: HistoryOptions): HistoryPage<T> {
  const { channel, epoch, head, more } = frame;
  const messages = frame.messages.map((m) => ({ channel, epoch, offset: m.offset, id: m.id, data: m.data as T }));
  const last = messages.at(-1);
  const forward = options.direction === 'forward';
  return {
    messages,
    epoch,
    head,
    hasMore: more,
    next: () =>
      more && last ? fetchHistory<T>(requests, channel, { ...options, ...(forward ? { after: last.offset } : { before: last.offset }) }) : undefined,
  };
}
