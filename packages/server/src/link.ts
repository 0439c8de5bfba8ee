import type { CloseCode } from '@tidewire/core/protocol';

/**
 * What a transport gives a session: a way to push text frames and end the
 * connection. The session core knows nothing of `ws` or HTTP; WebSocket, SSE and
 * long polling each implement this (see transports/).
 */
export interface Link {
  /** Send one encoded server frame. Must not throw; a dead link drops it. */
  send(text: string): void;
  /**
   * End the connection for a reason: send a `close` frame first (so HTTP
   * transports, which have no close codes, carry the reason too), then close
   * the underlying connection (WebSocket: with CLOSE_CODE_NUMBERS[code]).
   * Idempotent. The transport still calls `session.onLinkClosed()` afterwards.
   */
  close(code: CloseCode, message: string, retryAfter?: number): void;
  /** Bytes queued for this client but not yet written to the network. */
  bufferedBytes(): number;
  /**
   * Resolves once the `close` frame of `close()` has left (or the link ended). Only links that
   * cannot write it at once need it: a long poll between two requests holds it for the next one,
   * so a closing server waits for that (bounded) before it cuts connections. Absent: written at once.
   */
  closeSent?(): Promise<void>;
  /** The Origin header of the opening request, if the client sent one. */
  readonly remoteOrigin?: string;
  /** Which transport this is, for `server.metrics()` (absent: a custom or in-process line). */
  readonly transport?: 'websocket' | 'sse' | 'longpoll';
}
