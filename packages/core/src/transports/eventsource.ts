import { TidewireError } from '../errors';
import { fallbackPlan } from '../fallback-plan';
import type { TransportFactory } from '../transport';
import type { HttpLine, HttpTransportOptions } from './http-line';
import { frameLimit } from './frame-limit';
import { httpLine } from './http-line';
import { sseEventMeter } from './sse-event-meter';
import { sseEventHandler } from './sse-events';

/** An event as EventSource dispatches it: a `MessageEvent` for server events, a plain `Event` for its own `open`/`error`. */
export interface EventSourceEventLike {
  readonly data?: unknown;
}

/** The subset of the WHATWG EventSource the transport uses; the `eventsource` package (v3+) satisfies it in Node. */
export interface EventSourceLike {
  addEventListener(type: string, listener: (event: EventSourceEventLike) => void): void;
  close(): void;
}

/**
 * What the transport passes to the constructor. `fetch` is honoured by the `eventsource` package
 * (it lets the transport count the stream's bytes as activity) and ignored by browsers.
 */
export interface EventSourceInitLike {
  withCredentials?: boolean;
  fetch?: typeof globalThis.fetch;
}

export type EventSourceConstructor = new (url: string, init?: EventSourceInitLike) => EventSourceLike;

export interface EventSourceTransportOptions extends HttpTransportOptions {
  /** An EventSource implementation, e.g. `EventSource` from the `eventsource` package in Node. Default: the global one. */
  EventSource?: EventSourceConstructor;
  /**
   * Send cookies with the stream and the POSTs when the endpoint is on another origin
   * (`withCredentials` on the EventSource, `credentials: 'include'` on fetch). Default false.
   * Same-origin requests always carry cookies.
   */
  withCredentials?: boolean;
}

/**
 * Wrap `fetch` so that every chunk of a response body counts as activity: for EventSource
 * implementations that take a `fetch` (the `eventsource` package), bytes of an event still
 * arriving keep the line alive, as with `sse()`. The bytes of an unfinished event are counted
 * too: past `maxFrameBytes` they are not passed on, and the line ends (`tooLarge`).
 */
function countingBytes(fetch: typeof globalThis.fetch, line: HttpLine, onBytes: (bytes: number) => void): typeof globalThis.fetch {
  return async (input, init) => {
    // As every request of the line: a redirect is not followed (see http-line.ts), it ends the line.
    const res = await fetch(input, { ...init, redirect: 'manual' });
    if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400)) {
      void res.body?.cancel().catch(() => {});
      line.fail(`eventsource: HTTP ${res.status} (a redirect: not followed, point the client at the server itself)`);
      return new Response(null, { status: 502 }); // what the EventSource sees: a refusal, not a stream
    }
    if (!res.body) return res;
    const unfinished = sseEventMeter();
    const counted = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          if (line.done) return;
          if (unfinished(chunk) > line.maxFrameBytes) return line.tooLarge('an SSE event');
          onBytes(chunk.byteLength);
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * Server-sent events on the platform's `EventSource`: the same `<url>/sse` endpoint and
 * session as `sse()`, for apps that authenticate with **cookies**, want HTTP/2 connection
 * sharing with the page, or run where `fetch` cannot stream a body.
 *
 * - Downstream: `new EventSource('<url>/sse', { withCredentials })`; the `open` event carries
 *   the session, each `message` event is one frame. EventSource cannot send headers, so the
 *   token never goes in a header or the URL: it travels only in the `connect` frame, POSTed.
 * - Upstream: ordered, batched `POST <url>/sse?sid=…` with the session secret header, shared
 *   with `sse()` (no `Authorization` header, to match the stream).
 * - EventSource's own reconnection is disabled in effect: the first `error` closes it and ends
 *   the transport; the client's state machine reconnects and recovers, as for every transport.
 * - A native EventSource only reports whole events (events of a type other than `open` and
 *   `message` are invisible to it); with the `eventsource` package every chunk counts as activity.
 * - An event longer than `maxFrameBytes` ends the line (`invalid_frame`) with the `eventsource`
 *   package, which reads through our `fetch`; a browser's native EventSource buffers out of reach
 *   (a longer event it hands over still ends the line, after the fact).
 *
 * @param options `EventSource` (required in Node: the `eventsource` package), `withCredentials`, `fetch` for the POSTs,
 *   `maxFrameBytes` (default 64 MiB, see frame-limit.ts)
 * @returns the transport factory to list in `createClient({ transports })`
 * @throws TidewireError `invalid_options` when `maxFrameBytes` is not a positive integer; `transport_error`
 *   from `open()` when there is no EventSource or no fetch implementation
 */
export function eventsource(options: EventSourceTransportOptions = {}): TransportFactory {
  frameLimit(options); // a bad maxFrameBytes throws here, where the app wrote it
  return {
    name: 'eventsource',
    // Listed with others, a fallback transport brings the plan that chooses among them.
    plan: fallbackPlan,
    open(context, events) {
      const ES = options.EventSource ?? (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
      if (!ES) {
        throw new TidewireError(
          'transport_error',
          'No EventSource implementation found. In Node install `eventsource` and pass it: eventsource({ EventSource }).',
        );
      }
      const line = httpLine('sse', context, events, options, {
        bearer: false,
        ...(options.withCredentials && { credentials: 'include' as const }),
        // Only ever called from an event or close(), after `source` below exists.
        onEnd: () => source.close(),
      });
      const dispatch = sseEventHandler(line, events);
      const onEvent = (type: string) => (event: EventSourceEventLike) => {
        // EventSource's own `open` (the response arrived) is a plain Event without data: not the server's.
        if (line.done || typeof event.data !== 'string') return; // (its frames count as signs of life themselves)
        // A native EventSource (no fetch of ours) buffered it whole already; the line ends as with the package.
        if (event.data.length > line.maxFrameBytes) return line.tooLarge('an SSE event');
        dispatch(type, event.data);
      };
      const source = new ES(line.endpoint, {
        withCredentials: options.withCredentials ?? false,
        fetch: countingBytes(line.fetch, line, (bytes) => events.onActivity?.(bytes)),
      });
      source.addEventListener('open', onEvent('open'));
      source.addEventListener('message', onEvent('message'));
      // An error means the stream failed or ended; EventSource would retry on its own with the
      // same URL, outside the client's backoff and recovery. Close it and let the client decide.
      // The `eventsource` package says why (e.g. the status of a refused answer); a browser's says nothing.
      source.addEventListener('error', (ev) => {
        const why = (ev as { message?: unknown }).message;
        line.fail('eventsource: the stream failed or ended', typeof why === 'string' && why ? new Error(why) : undefined);
      });
      return line;
    },
  };
}
