import type { AnyHttpServer } from './attach';

/* The shapes TidewireServer's methods return (listen, connectInProcess, stats). */

/** What `listen` resolves with: the actual `port`, the WebSocket `url` and the owned `httpServer`. */
export interface ListenResult {
  readonly port: number;
  /** e.g. ws://127.0.0.1:PORT/tidewire */
  readonly url: string;
  readonly httpServer: AnyHttpServer;
}

/** The inbound side of a session opened with `connectInProcess`. */
export interface InProcessSession {
  /** One text frame from the client. Never throws. */
  receive(text: string): void;
  /** The line is gone (the client left or the network failed): end the session without sending. */
  linkClosed(): void;
}

/** A point-in-time count of open sessions and of channels the broker holds. */
export interface ServerStats {
  /** Open connections, including those not yet past `connect`. */
  readonly sessions: number;
  /** Channels the broker currently holds. */
  readonly channels: number;
}
