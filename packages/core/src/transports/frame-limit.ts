import { ProtocolError, TidewireError } from '../errors';

/**
 * The most a transport buffers of one server frame before giving up on the line: 64 MiB.
 *
 * Why not the server's `maxPayload`: that bounds what a *client* sends. What the server sends is
 * bigger by design: a `history_page` (or a `subscribe` with `recent`) carries up to 1,000 stored
 * messages of up to `maxPayload` each, and `server.publish` and rpc results are the app's own
 * values. 64 MiB holds the largest page the reference server sends at its default `maxPayload`
 * (1,000 × 64 KiB plus each message's envelope, about 65.6 MB). An app whose pages or server values
 * are bigger raises it; one that knows its frames are small lowers it (`maxFrameBytes`).
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

/** The option every transport takes (`websocket()`, `sse()`, `eventsource()`, `longpoll()`). */
export interface FrameLimitOptions {
  /**
   * The largest server frame the transport reads, in bytes (default {@link DEFAULT_MAX_FRAME_BYTES},
   * 64 MiB). A frame still growing past it — an SSE event, a long-poll answer or line, a WebSocket
   * message — is not buffered further: the line ends, the client reports a `ProtocolError`
   * (`invalid_frame`) and reconnects, and recovery resumes from the last position.
   * The HTTP transports count decoded characters, never more than the bytes, so a frame within
   * the limit always passes.
   */
  maxFrameBytes?: number;
}

/**
 * The limit a transport enforces.
 * @param options the transport's options
 * @returns `maxFrameBytes`, or the default
 * @throws TidewireError `invalid_options` when `maxFrameBytes` is not a positive safe integer
 */
export function frameLimit(options: FrameLimitOptions): number {
  const limit = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  if (!Number.isSafeInteger(limit) || limit <= 0) {
    throw new TidewireError('invalid_options', `maxFrameBytes must be a positive integer, got ${limit}`);
  }
  return limit;
}

/**
 * What to report when a frame outgrows the limit. `invalid_frame`, not `too_large`: it is the code
 * every other unusable thing from the server already gets (apps branch on it once), while
 * `too_large` answers the app's *own* request and tells it to send less, the wrong remedy here.
 * @param what the thing that grew too big, e.g. "an SSE event"
 * @param limit the limit in bytes
 * @returns the reason (for `onInvalid`) and the error (the cause the line closes with)
 */
export function frameTooLarge(what: string, limit: number): { reason: string; error: ProtocolError } {
  const reason = `${what} outgrew maxFrameBytes (${limit} bytes)`;
  return { reason, error: new ProtocolError('invalid_frame', reason, { context: { limit } }) };
}
