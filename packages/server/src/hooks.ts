import type { IncomingMessage } from 'node:http';

/** Where auth and authorization hooks may look: the session and the request that opened it. */
export interface SessionInfo<User = unknown> {
  /** The id sent to the client in `connected.session`. */
  readonly id: string;
  readonly user: User;
  /** The HTTP request that opened the connection (upgrade request for WebSocket). */
  readonly request: IncomingMessage;
}

/** What `authenticate` receives: the `token` from the `connect`/`refresh` frame, the HTTP `request` that opened the connection, the `reason`, and on refresh the current `user`. */
export interface AuthenticateContext<User = unknown> {
  /** The token from the `connect` or `refresh` frame (never from the URL). */
  readonly token: string | undefined;
  readonly request: IncomingMessage;
  /** `refresh`: an in-band token refresh; `user` is who the session belonged to so far. */
  readonly reason: 'connect' | 'refresh';
  readonly user?: User;
}

/** What `authenticate` returns to admit a connection: the `user` (anything; passed to `authorize`) and optionally `expiresAt`. */
export interface AuthResult<User = unknown> {
  readonly user: User;
  /** Absolute expiry (ms since the epoch). The session closes with `token_expired` then unless refreshed. */
  readonly expiresAt?: number;
}

/** Return null (or throw) to refuse: the connection closes `unauthorized`, a refresh gets an error. */
export type Authenticate<User = unknown> = (
  ctx: AuthenticateContext<User>,
) => AuthResult<User> | null | undefined | Promise<AuthResult<User> | null | undefined>;

/**
 * What `authorize` receives: the `user`, the `channel`, the `action` and the `session`. Actions:
 * `subscribe` (follow the channel, and read its history), `publish`, `presence` (see who is in it),
 * `enter` (appear in it as a member). See docs/server.md, "Presence and history".
 */
export interface AuthorizeContext<User = unknown> {
  readonly user: User;
  readonly channel: string;
  readonly action: 'subscribe' | 'publish' | 'presence' | 'enter';
  readonly session: SessionInfo<User>;
}

/** Return false to refuse with `forbidden`. A throw answers `server_error`. */
export type Authorize<User = unknown> = (ctx: AuthorizeContext<User>) => boolean | Promise<boolean>;

/** Where the server reports: `warn` for transport noise and configuration hints (a refused origin), `error` for hook failures. */
export interface Logger {
  warn(message: string, details?: unknown): void;
  error(message: string, details?: unknown): void;
}

/** Browser origins admitted besides the same host: exact origins (`'*'` admits all) or a predicate. See docs/deployment.md. */
export type AllowedOrigins = readonly string[] | ((origin: string) => boolean);
