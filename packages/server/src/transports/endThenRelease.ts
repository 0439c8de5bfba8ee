import type { ServerResponse } from 'node:http';

/**
 * How long a peer gets to take the last bytes of a response the server has ended before its socket
 * is cut: the same second ws.ts gives a WebSocket to finish its closing handshake (its `CLOSE_GRACE_MS`).
 */
export const CLOSE_GRACE_MS = 1000;

/**
 * Make sure a response the server has ended cannot be kept by its peer: unless it has been handed
 * to the operating system within `graceMs`, destroy it (and so its socket).
 *
 * Why: `response.end()` only queues the last bytes. A peer that stopped reading (a slow consumer
 * closed for it, a dead peer whose TCP is still up) never drains them, and Node never times out a
 * response that is being written — so the socket stays ESTABLISHED and every unsent byte (up to
 * `limits.maxBufferedBytes` of an SSE stream, a whole long-poll batch) stays in the server's heap
 * for as long as the peer keeps TCP open. A reading peer takes the last bytes (the `close` frame)
 * well within the grace: it is for flushing, and the timer is cleared as soon as the response is
 * done. The timer is unref'd, so it never holds a shutting-down process open.
 * @param response an ended response (calling this twice arms a second, harmless timer)
 * @param graceMs how long the last bytes may take to leave
 */
export function releaseUnflushed(response: ServerResponse, graceMs: number = CLOSE_GRACE_MS): void {
  // `writableFinished`: ended, and nothing left in the response or its socket. A finished response
  // leaves its socket to the HTTP server (keep-alive timeout), which frees it.
  // No socket of ours (a platform's fetch bridge, FetchResponseWriter): the platform frees its own.
  if (!response.socket || response.writableFinished || response.destroyed) return;
  const timer = setTimeout(() => response.destroy(), graceMs).unref();
  // A ServerResponse emits `close` once it is finished or once its socket is gone, whichever comes first.
  response.once('close', () => clearTimeout(timer));
}

/**
 * End `response` with `body` as its last bytes, then {@link releaseUnflushed} it: every place an HTTP
 * transport ends a response of a session goes through here, so a peer that stops reading never keeps
 * the socket, or the bytes it did not take, past the grace.
 * @param response the response to end (headers already written, or written by `end` itself)
 * @param body the last bytes, if any
 * @param graceMs how long the last bytes may take to leave before the socket is destroyed
 * @example
 * endThenRelease(response, event(closeFrame)); // an SSE stream's close event, then the socket goes unless it is read
 */
export function endThenRelease(response: ServerResponse, body?: string | Buffer, graceMs: number = CLOSE_GRACE_MS): void {
  if (body === undefined) response.end();
  else response.end(body);
  releaseUnflushed(response, graceMs);
}
