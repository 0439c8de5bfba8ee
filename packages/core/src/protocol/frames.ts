/**
 * Wire frames of protocol version 1, as TypeScript types shared by client and server.
 * `docs/protocol.md` is the normative spec; its machine-readable twin is the zod schema in
 * packages/server/src/protocolSchema.ts (published as docs/protocol.schema.json), which is checked
 * at compile time to name the same frame types as this file.
 */

export const PROTOCOL_VERSION = 1;

/**
 * The `lines` capability (protocol §17.4, WebSocket only): a client listing it in `connect.features`
 * accepts several server frames in one text message, separated by `\n` (JSON text never holds a raw
 * newline); a server listing it back in `connected.features` may send them so.
 */
export const LINES_FEATURE = 'lines';

/**
 * The `presence_end` capability (protocol §14): a client listing it in `connect.features` reads
 * `presence_unsubscribed` and `left`, the frames by which a server ends a presence watch or a
 * membership on its own. A server sends them only to such clients (new frame types within version
 * 1, §1); to others it ends them with an `error` naming no request.
 */
export const PRESENCE_END_FEATURE = 'presence_end';

/** Where a subscriber stands in a channel's stream: the last offset it has seen within an epoch. */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

// ── client → server ────────────────────────────────────────────────────────

export interface ConnectFrame {
  readonly type: 'connect';
  readonly v: number;
  readonly token?: string;
  /** Capabilities the client offers that need the server's consent (protocol §1.1): `binary` (§17.2). */
  readonly features?: readonly string[];
}
export interface SubscribeFrame {
  readonly type: 'subscribe';
  readonly id: string;
  readonly channel: string;
  /** Resume after this position; the server replays what the subscriber missed. */
  readonly since?: Position;
  /**
   * Without `since` only, capability `history`: start with (up to) the last `recent` stored
   * messages, replayed before any live one — no gap, no duplicate between the two (§5.4).
   */
  readonly recent?: number;
}
export interface UnsubscribeFrame {
  readonly type: 'unsubscribe';
  readonly channel: string;
}
export interface PublishFrame {
  readonly type: 'publish';
  /** Client-chosen id; reused on retry so the server stores the message at most once. */
  readonly id: string;
  readonly channel: string;
  readonly data: unknown;
}
export interface RefreshFrame {
  readonly type: 'refresh';
  readonly id: string;
  readonly token: string;
}
/**
 * A remote procedure call (protocol §16): the server runs its `rpc[method]` handler and answers
 * `result` with the same `id`, or `error` with that `id`.
 */
export interface RpcFrame {
  readonly type: 'rpc';
  readonly id: string;
  readonly method: string;
  readonly data: unknown;
}
/** Capability `presence`: start receiving a channel's members (`presence_snapshot`, then `presence_change`s). */
export interface PresenceSubscribeFrame {
  readonly type: 'presence_subscribe';
  readonly id: string;
  readonly channel: string;
}
/** Capability `presence`: stop receiving a channel's members. No answer. */
export interface PresenceUnsubscribeFrame {
  readonly type: 'presence_unsubscribe';
  readonly channel: string;
}
/** Capability `presence`: become a member of a channel (again: replaces `info`). Answered by `entered`. */
export interface EnterFrame {
  readonly type: 'enter';
  readonly id: string;
  readonly channel: string;
  /** Anything JSON the other members should see (a display name, a status). */
  readonly info?: unknown;
}
/** Capability `presence`: stop being a member of a channel. No answer. */
export interface LeaveFrame {
  readonly type: 'leave';
  readonly channel: string;
}
/** Capability `history`: read stored messages of a channel, without subscribing. Answered by `history_page`. */
export interface HistoryFrame {
  readonly type: 'history';
  readonly id: string;
  readonly channel: string;
  /** Most messages in the page; the server caps it (reference server: 1,000). */
  readonly limit: number;
  /** Only messages with an offset below this one. */
  readonly before?: number;
  /** Only messages with an offset above this one. */
  readonly after?: number;
  /** `backward` (default): newest first; `forward`: oldest first. */
  readonly direction?: 'backward' | 'forward';
}
export interface PingFrame {
  readonly type: 'ping';
}
export interface PongFrame {
  readonly type: 'pong';
}

export type ClientFrame =
  | ConnectFrame
  | SubscribeFrame
  | UnsubscribeFrame
  | PublishFrame
  | RefreshFrame
  | PresenceSubscribeFrame
  | PresenceUnsubscribeFrame
  | EnterFrame
  | LeaveFrame
  | HistoryFrame
  | RpcFrame
  | PingFrame
  | PongFrame;

// ── server → client ────────────────────────────────────────────────────────

export interface ConnectedFrame {
  readonly type: 'connected';
  readonly v: number;
  readonly session: string;
  /** The server sends a ping at least this often (ms); the client allows heartbeat + max(1 s, heartbeat / 2) of silence. */
  readonly heartbeat: number;
  /** Largest frame the server accepts, in bytes of UTF-8. */
  readonly maxPayload: number;
  /** Milliseconds until the token expires, when the token has an expiry. */
  readonly expiresIn?: number;
  /**
   * The request limits this server enforces per connection (protocol §5): a client paces its
   * own recovery traffic (resubscribes, outbox flush) to stay within them. Absent on older servers:
   * assume the defaults (100 frames/s, burst 200).
   */
  readonly limits?: ServerLimits;
  /**
   * Optional capabilities this server supports (protocol §1.1), e.g. `["presence","history"]`.
   * Absent on older servers: none of them. A client uses a capability only when it is listed.
   */
  readonly features?: readonly string[];
}
/** Per-connection limits a server announces in `connected`. */
export interface ServerLimits {
  /** Sustained request frames per second. */
  readonly rate: number;
  /** Request frames allowed at once above the sustained rate. */
  readonly burst: number;
}
export interface SubscribedFrame {
  readonly type: 'subscribed';
  readonly id: string;
  readonly channel: string;
  /** The stream continues after this position. */
  readonly epoch: string;
  readonly offset: number;
  /** True when every message after `since` follows (replayed) — false when history could not cover it. */
  readonly recovered: boolean;
}
export interface UnsubscribedFrame {
  readonly type: 'unsubscribed';
  readonly channel: string;
  readonly code: ErrorCode;
  readonly message: string;
}
export interface MessageFrame {
  readonly type: 'message';
  readonly channel: string;
  readonly epoch: string;
  readonly offset: number;
  /** The publisher's message id (server-generated for server-side publishes). */
  readonly id: string;
  readonly data: unknown;
  /**
   * Present (always `true`) when this connection was excepted from the message
   * (`server.publish(…, { except })`, protocol §5.3): `data` is `null`; the client advances its
   * position past `offset` without delivering anything.
   */
  readonly skip?: true;
}
export interface AckFrame {
  readonly type: 'ack';
  readonly id: string;
  readonly epoch: string;
  readonly offset: number;
}
export interface RefreshedFrame {
  readonly type: 'refreshed';
  readonly id: string;
  readonly expiresIn?: number;
}
export interface ErrorFrame {
  readonly type: 'error';
  /** The client request (publish, subscribe, refresh) this answers, if any. */
  readonly id?: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly retryAfter?: number;
  /** With code `rpc_error`: the application's own error code from the rpc handler (e.g. `insufficient_funds`). */
  readonly appCode?: string;
}
/** The answer to an `rpc` frame: what the handler returned (`null` for nothing). */
export interface ResultFrame {
  readonly type: 'result';
  readonly id: string;
  readonly data: unknown;
}
/** One member of a channel's presence: a connection that entered it. */
export interface PresenceMember {
  /** The member's connection: its `connected.session`. A reconnect is a new member. */
  readonly clientId: string;
  /** What the server's `authenticate` returned as `user` (null when anonymous). */
  readonly user: unknown;
  /** What the client passed to `enter`, if anything. */
  readonly info?: unknown;
}
/** Answers `presence_subscribe`: every member now; `presence_change` frames follow. */
export interface PresenceSnapshotFrame {
  readonly type: 'presence_snapshot';
  readonly id: string;
  readonly channel: string;
  readonly members: readonly PresenceMember[];
}
/** A member joined (or entered again with new `info`) or left, after the snapshot. */
export interface PresenceChangeFrame {
  readonly type: 'presence_change';
  readonly channel: string;
  readonly action: 'join' | 'leave';
  readonly member: PresenceMember;
}
/**
 * One message's key among others of any channel: publish ids are unique per channel only (the
 * dedupe window, protocol §7), so what recognises a message by its id — the client's `echo: false`,
 * the server's `except` — keys it by both (the channel length-prefixed, so no two pairs meet).
 */
export const messageKey = (channel: string, id: string): string => `${channel.length}:${channel}${id}`;

/**
 * The server ended a presence watch on its own (§14: the user may no longer read the channel's
 * members, e.g. after a refresh narrowed its rights): no `presence_change` follows; the client's
 * presence of `channel` fails with `code`. Unrequested, like `unsubscribed` for a subscription.
 */
export interface PresenceUnsubscribedFrame {
  readonly type: 'presence_unsubscribed';
  readonly channel: string;
  readonly code: ErrorCode;
  readonly message: string;
}
/**
 * The server ended this connection's membership of `channel` on its own (§14: the user may no
 * longer `enter` it, e.g. after a refresh narrowed its rights): watchers saw it leave, and the
 * client no longer counts itself a member (it does not enter again on reconnect). Unrequested.
 */
export interface LeftFrame {
  readonly type: 'left';
  readonly channel: string;
  readonly code: ErrorCode;
  readonly message: string;
}
/** Answers `enter`: the connection is a member of `channel`. */
export interface EnteredFrame {
  readonly type: 'entered';
  readonly id: string;
  readonly channel: string;
}
/** A stored message as history returns it: its position (with the page's epoch) and content. */
export interface HistoryMessage {
  readonly offset: number;
  readonly id: string;
  readonly data: unknown;
}
/** Answers `history`: messages of one epoch in the order asked for. */
export interface HistoryPageFrame {
  readonly type: 'history_page';
  readonly id: string;
  readonly channel: string;
  readonly epoch: string;
  /** The channel's newest offset when the page was read (0: none yet). */
  readonly head: number;
  readonly messages: readonly HistoryMessage[];
  /** Whether history holds more messages past the page's end, in the direction asked. */
  readonly more: boolean;
}
export interface CloseFrame {
  readonly type: 'close';
  readonly code: CloseCode;
  readonly message: string;
  /** Milliseconds the client should wait before reconnecting. */
  readonly retryAfter?: number;
}

export type ServerFrame =
  | ConnectedFrame
  | SubscribedFrame
  | UnsubscribedFrame
  | MessageFrame
  | AckFrame
  | RefreshedFrame
  | ErrorFrame
  | PresenceSnapshotFrame
  | PresenceChangeFrame
  | PresenceUnsubscribedFrame
  | LeftFrame
  | EnteredFrame
  | HistoryPageFrame
  | ResultFrame
  | CloseFrame
  | PingFrame
  | PongFrame;

// ── codes ──────────────────────────────────────────────────────────────────

/** Reasons a request is refused. Stable: documented in docs/errors.md and docs/protocol.md. */
export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'too_large',
  'rate_limited',
  'unknown_channel',
  'not_subscribed',
  'server_error',
  'unknown_method', // an rpc names a method the server has no handler for
  'rpc_error', // an rpc handler refused the call; the app's own code is in `appCode`
] as const;
/** Why the server refused a request (`error` frames): see docs/errors.md and protocol §11.1. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Why a connection ends, with the WebSocket close code each maps to 1:1;
 * HTTP transports carry the same name in a `close` frame.
 */
export const CLOSE_CODE_NUMBERS = {
  normal: 1000,
  going_away: 1001,
  protocol_error: 4400,
  unsupported_version: 4426,
  unauthorized: 4401,
  token_expired: 4419,
  forbidden: 4403,
  too_large: 4413,
  rate_limited: 4429,
  slow_consumer: 4408,
  heartbeat_timeout: 4409,
  server_error: 4500,
  /**
   * The server refused the page's Origin before any session (HTTP 403 with this code in its JSON
   * body); HTTP transports read it from that answer. The reference server never sends it as a close frame.
   */
  forbidden_origin: 4493,
} as const;
/** Why a connection ended (`close` frames, WebSocket close codes 1000/1001/44xx): see docs/errors.md and protocol §11.2. */
export type CloseCode = keyof typeof CLOSE_CODE_NUMBERS;

// Derived rather than listed again, so the names ship once.
export const CLOSE_CODES = Object.keys(CLOSE_CODE_NUMBERS) as readonly CloseCode[];

export function closeCodeFromNumber(n: number): CloseCode | undefined {
  return CLOSE_CODES.find((code) => CLOSE_CODE_NUMBERS[code] === n);
}
