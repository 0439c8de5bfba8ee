import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeFrame, type CloseCode } from '@tidewire/core/protocol';
import { BURST_FLUSH_CHARS, afterBurst } from '../afterBurst';
import type { Link } from '../link';
import type { Session } from '../session';
import { endThenRelease } from './endThenRelease';
import { authDigest, newSessionId, newSessionSecret, type HttpSession } from './http';

export interface SseHost {
  keepAlive: number;
  openSession(link: Link, request: IncomingMessage): Session;
  register(sid: string, http: HttpSession): void;
  unregister(sid: string): void;
  /** Makes the session ids (default: random; with a relay, ids that name this node). */
  newSessionId?: () => string;
}

/**
 * One SSE event per frame. Encoded JSON has no raw newlines (the regex runs only when one is there,
 * checked with the native `indexOf`: a burst writes thousands of events), but a multi-line text still round-trips.
 */
const event = (text: string): string =>
  text.indexOf('\n') === -1 && text.indexOf('\r') === -1 ? `data: ${text}\n\n` : `data: ${text.replace(/\r\n|\r|\n/g, '\ndata: ')}\n\n`;

/**
 * `GET <path>/sse`: answer with an event stream, announce the session id in an `open`
 * event, then write every server frame as one `message` event, flushed as it is written.
 * Upstream frames arrive by POST (see httpRoutes). The session ends with the response; the server
 * ends it through endThenRelease, so a peer that stopped reading does not keep the socket.
 */
export function openSseStream(request: IncomingMessage, response: ServerResponse, host: SseHost): void {
  const sid = (host.newSessionId ?? newSessionId)();
  const { secret, digest } = newSessionSecret();
  let ended = false;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    'x-accel-buffering': 'no', // nginx: do not buffer the stream
    connection: 'keep-alive',
  });
  response.socket?.setNoDelay(true);
  // The secret goes out once, in the body: later requests prove it in a header (see http.ts).
  response.write(`event: open\ndata: ${JSON.stringify({ sid, secret })}\n\n`);

  // Within a burst (see afterBurst) the first frame is written at once, so a lone frame is not held back;
  // the rest are collected and leave at the burst's end as one write (one chunk, one syscall), not one each.
  let burst: 'none' | 'one_frame' | 'collecting' = 'none';
  let collected = '';
  const endBurst = (): void => {
    if (burst === 'collecting' && !ended) response.write(collected);
    collected = '';
    burst = 'none';
  };
  const origin = request.headers.origin;
  const link: Link = {
    ...(origin !== undefined && { remoteOrigin: origin }),
    transport: 'sse',
    send(text) {
      if (ended) return;
      if (burst === 'none') {
        burst = 'one_frame';
        afterBurst(endBurst);
        response.write(event(text));
      } else {
        burst = 'collecting';
        collected += event(text);
        // Flushed by size as well as at the burst's end: a loop that never yields still streams.
        if (collected.length >= BURST_FLUSH_CHARS) {
          response.write(collected);
          collected = '';
          // node:http corks the socket on a write until the next tick; let this piece leave now.
          response.socket?.uncork();
        }
      }
    },
    close(code: CloseCode, message: string, retryAfter?: number) {
      if (ended) return;
      ended = true;
      // The close event is the stream's last bytes; a peer that does not take them (a slow consumer) loses the socket.
      endThenRelease(response, collected + event(encodeFrame({ type: 'close', code, message, ...(retryAfter !== undefined && { retryAfter }) })));
    },
    bufferedBytes: () => response.writableLength + collected.length,
  };
  const session = host.openSession(link, request);
  // Comments keep proxies and load balancers from timing out a quiet stream.
  const keepAlive = setInterval(() => ended || response.write(': ping\n\n'), host.keepAlive);
  host.register(sid, {
    kind: 'sse',
    auth: authDigest(request),
    secret: digest,
    session,
    end: () => {
      ended = true;
      endThenRelease(response);
    },
  });
  response.once('close', () => {
    ended = true;
    clearInterval(keepAlive);
    host.unregister(sid);
    session.onLinkClosed();
  });
}
