import { createParser } from 'eventsource-parser';
import { fallbackPlan } from '../fallback-plan';
import type { TransportFactory } from '../transport';
import type { HttpTransportOptions } from './http-line';
import { frameLimit } from './frame-limit';
import { httpLine } from './http-line';
import { sseEventHandler } from './sse-events';

export type { HttpTransportOptions as SseTransportOptions } from './http-line';

/**
 * Server-sent events read with `fetch` streaming (so `Authorization` works everywhere):
 * `GET <url>/sse` streams `event: open` (the session), then one `message` event per
 * server frame; client frames go up as ordered, batched `POST <url>/sse?sid=…`.
 *
 * The stream is parsed by `eventsource-parser` (WHATWG-conformant, linear in bytes: a partial
 * line is kept as fragments and joined once, when its line ends). Every chunk counts as
 * activity, so a frame slower than the heartbeat allowance does not kill a healthy line. What the
 * parser holds of an unfinished event is bounded by `maxFrameBytes` (its `maxBufferSize`): an
 * event that never ends closes the line (`invalid_frame`) and the client reconnects.
 *
 * @param options `fetch`: an implementation to use instead of the client's or the global one;
 *   `maxFrameBytes`: the largest event read (default 64 MiB, see frame-limit.ts)
 * @returns the transport factory to list in `createClient({ transports })`
 * @throws TidewireError `invalid_options` when `maxFrameBytes` is not a positive integer
 */
export function sse(options: HttpTransportOptions = {}): TransportFactory {
  frameLimit(options); // a bad maxFrameBytes throws here, where the app wrote it
  return {
    name: 'sse',
    // Listed with others, a fallback transport brings the plan that chooses among them.
    plan: fallbackPlan,
    open(context, events) {
      const line = httpLine('sse', context, events, options);
      const dispatch = sseEventHandler(line, events);
      // `id` and `retry` steer EventSource's own reconnection; the client reconnects by itself.
      const parser = createParser({
        onEvent: (event) => dispatch(event.event ?? 'message', event.data),
        // Counted in characters, never more than the bytes they came from: a frame within the limit passes.
        maxBufferSize: line.maxFrameBytes,
        onError: (error) => void (error.type === 'max-buffer-size-exceeded' && line.tooLarge('an SSE event')),
      });
      line
        .request('GET', { headers: { Accept: 'text/event-stream' }, stream: true })
        .then(async (res) => {
          // Once over the limit the parser is terminated (feed throws); the line has ended by then.
          await line.read(res, (text) => void (line.done || parser.feed(text)));
          line.fail('sse: the stream ended');
        })
        .catch((cause: unknown) => line.fail('sse: the stream failed', cause));
      return line;
    },
  };
}
