import { fallbackPlan } from '../fallback-plan';
import type { TransportFactory } from '../transport';
import type { HttpTransportOptions } from './http-line';
import { httpLine } from './http-line';
import { sseParser } from './sse-parser';

export type { HttpTransportOptions as SseTransportOptions } from './http-line';

/**
 * Server-sent events read with `fetch` streaming (so `Authorization` works everywhere):
 * `GET <url>/sse` streams `event: open` (the session id), then one `message` event per
 * server frame; client frames go up as ordered, batched `POST <url>/sse?sid=…`.
 */
export function sse(options: HttpTransportOptions = {}): TransportFactory {
  return {
    name: 'sse',
    // Listed with others, a fallback transport brings the plan that chooses among them.
    plan: fallbackPlan,
    open(context, events) {
      const line = httpLine('sse', context, events, options);
      const feed = sseParser((type, data) => {
        if (line.done) return;
        if (type === 'open') {
          line.sid = (JSON.parse(data) as { sid: string }).sid;
          events.onOpen();
        } else if (type === 'message') events.onFrame(data);
      });
      line
        .request('GET', { headers: { Accept: 'text/event-stream' }, stream: true })
        .then(async (res) => {
          const reader = res.body!.getReader();
          const decoder = new TextDecoder();
          for (let chunk; !(chunk = await reader.read()).done; ) feed(decoder.decode(chunk.value, { stream: true }));
          line.fail('sse: the stream ended');
        })
        .catch((cause: unknown) => line.fail('sse: the stream failed', cause));
      return line;
    },
  };
}
