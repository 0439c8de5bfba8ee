import type { TransportEvents } from '../transport';
import type { HttpLine } from './http-line';

/** Longest piece of a server-chosen event name quoted back in a report. */
const QUOTED_NAME = 40;

/**
 * What the events of `<url>/sse` mean, shared by `sse()` (fetch + eventsource-parser) and
 * `eventsource()` (the platform's EventSource), so both read the stream the same way:
 * - `open` (first, once): `{ "sid": string, "secret"?: string }` — the session; the line opens;
 * - `message`: one server frame;
 * - anything else is not ours: reported through `onInvalid`, never dropped silently.
 *
 * @returns the handler to call with each dispatched event's type and data
 */
export function sseEventHandler(line: HttpLine, events: TransportEvents): (type: string, data: string) => void {
  let opened = false;
  return (type, data) => {
    if (line.done) return;
    if (type === 'message') return events.onFrame(data);
    if (type === 'open' && !opened) {
      if (!line.adopt(data)) {
        // Not our handshake: report it like any garbage; the line cannot work without a session.
        events.onInvalid?.('the SSE open event carries no session');
        return line.fail('sse: the server did not open a session');
      }
      opened = true;
      return events.onOpen();
    }
    events.onInvalid?.(`unexpected SSE event "${type.slice(0, QUOTED_NAME)}"`);
  };
}
