import { z } from 'zod';
import { CLOSE_CODES, ERROR_CODES, type ClientFrame, type CloseCode, type ServerFrame } from '@tidewire/core/protocol';

/**
 * Every frame of protocol version 1, defined once, in zod. docs/protocol.md is the prose; these
 * schemas are its machine-readable twin: the server validates every inbound frame with them,
 * docs/protocol.schema.json is generated from them (`pnpm schema`), and a property test proves
 * the client's small hand-written validator (core's codec.ts) accepts exactly what they accept.
 *
 * They live in the server package so zod never reaches the client bundle.
 *
 * Objects are not `.strict()`: an unknown extra field is ignored, as the codec ignores it, so a
 * newer peer can add optional fields without breaking an older one.
 */

/** A non-negative safe integer (offsets, ms, bytes). zod 4's `.int()` already means "safe". */
const count = z.number().int().nonnegative();
/**
 * Any JSON value; the key must be present (JSON has no `undefined`). Frames reach the schema from
 * `JSON.parse`, so whatever is present is JSON already: only presence is checked. Walking `data`
 * again with `z.json()` cost ~17 µs per small publish (vs ~0.4 µs) in a micro-benchmark; depth is
 * bounded before parsing (depth.ts). docs/protocol.schema.json still describes it as a JSON value.
 */
export const json = z.custom<z.core.util.JSONType>((v) => v !== undefined, { message: 'Invalid input: expected a JSON value' });
const position = z.object({ epoch: z.string(), offset: count });

export const connectFrame = z.object({ type: z.literal('connect'), v: count, token: z.string().optional(), features: z.array(z.string()).optional() });
export const subscribeFrame = z.object({
  type: z.literal('subscribe'),
  id: z.string(),
  channel: z.string(),
  since: position.optional(),
  recent: count.optional(),
});
export const unsubscribeFrame = z.object({ type: z.literal('unsubscribe'), channel: z.string() });
export const publishFrame = z.object({ type: z.literal('publish'), id: z.string(), channel: z.string(), data: json });
export const refreshFrame = z.object({ type: z.literal('refresh'), id: z.string(), token: z.string() });
export const rpcFrame = z.object({ type: z.literal('rpc'), id: z.string(), method: z.string(), data: json });
export const presenceSubscribeFrame = z.object({ type: z.literal('presence_subscribe'), id: z.string(), channel: z.string() });
export const presenceUnsubscribeFrame = z.object({ type: z.literal('presence_unsubscribe'), channel: z.string() });
export const enterFrame = z.object({ type: z.literal('enter'), id: z.string(), channel: z.string(), info: json.optional() });
export const leaveFrame = z.object({ type: z.literal('leave'), channel: z.string() });
export const historyFrame = z.object({
  type: z.literal('history'),
  id: z.string(),
  channel: z.string(),
  limit: count,
  before: count.optional(),
  after: count.optional(),
  direction: z.enum(['backward', 'forward']).optional(),
});
export const pingFrame = z.object({ type: z.literal('ping') });
export const pongFrame = z.object({ type: z.literal('pong') });

/** Every frame a client may send. */
export const clientFrame = z.discriminatedUnion('type', [
  connectFrame,
  subscribeFrame,
  unsubscribeFrame,
  publishFrame,
  refreshFrame,
  presenceSubscribeFrame,
  presenceUnsubscribeFrame,
  enterFrame,
  leaveFrame,
  historyFrame,
  rpcFrame,
  pingFrame,
  pongFrame,
]);

const errorCode = z.enum(ERROR_CODES);
// CLOSE_CODES is derived from an object's keys (so the client ships the names once), hence not a tuple type.
const closeCode = z.enum(CLOSE_CODES as readonly CloseCode[] as readonly [CloseCode, ...CloseCode[]]);

export const connectedFrame = z.object({
  type: z.literal('connected'),
  v: count,
  session: z.string(),
  heartbeat: count,
  maxPayload: count,
  expiresIn: count.optional(),
  limits: z.object({ rate: count, burst: count }).optional(),
  features: z.array(z.string()).optional(),
});
export const subscribedFrame = z.object({
  type: z.literal('subscribed'),
  id: z.string(),
  channel: z.string(),
  epoch: z.string(),
  offset: count,
  recovered: z.boolean(),
});
export const unsubscribedFrame = z.object({ type: z.literal('unsubscribed'), channel: z.string(), code: errorCode, message: z.string() });
export const messageFrame = z.object({
  type: z.literal('message'),
  channel: z.string(),
  epoch: z.string(),
  offset: count,
  id: z.string(),
  data: json,
  skip: z.literal(true).optional(),
});
export const ackFrame = z.object({ type: z.literal('ack'), id: z.string(), epoch: z.string(), offset: count });
export const refreshedFrame = z.object({ type: z.literal('refreshed'), id: z.string(), expiresIn: count.optional() });
export const errorFrame = z.object({
  type: z.literal('error'),
  id: z.string().optional(),
  code: errorCode,
  message: z.string(),
  retryAfter: count.optional(),
  appCode: z.string().optional(),
});
export const resultFrame = z.object({ type: z.literal('result'), id: z.string(), data: json });
const presenceMember = z.object({ clientId: z.string(), user: json, info: json.optional() });
export const presenceSnapshotFrame = z.object({ type: z.literal('presence_snapshot'), id: z.string(), channel: z.string(), members: z.array(presenceMember) });
export const presenceChangeFrame = z.object({
  type: z.literal('presence_change'),
  channel: z.string(),
  action: z.enum(['join', 'leave']),
  member: presenceMember,
});
export const presenceUnsubscribedFrame = z.object({ type: z.literal('presence_unsubscribed'), channel: z.string(), code: errorCode, message: z.string() });
export const leftFrame = z.object({ type: z.literal('left'), channel: z.string(), code: errorCode, message: z.string() });
export const enteredFrame = z.object({ type: z.literal('entered'), id: z.string(), channel: z.string() });
export const historyPageFrame = z.object({
  type: z.literal('history_page'),
  id: z.string(),
  channel: z.string(),
  epoch: z.string(),
  head: count,
  messages: z.array(z.object({ offset: count, id: z.string(), data: json })),
  more: z.boolean(),
});
export const closeFrame = z.object({ type: z.literal('close'), code: closeCode, message: z.string(), retryAfter: count.optional() });

/** Every frame a server may send. */
export const serverFrame = z.discriminatedUnion('type', [
  connectedFrame,
  subscribedFrame,
  unsubscribedFrame,
  messageFrame,
  ackFrame,
  refreshedFrame,
  errorFrame,
  presenceSnapshotFrame,
  presenceChangeFrame,
  presenceUnsubscribedFrame,
  leftFrame,
  enteredFrame,
  historyPageFrame,
  resultFrame,
  closeFrame,
  pingFrame,
  pongFrame,
]);

// Compile-time proof that the schemas and frames.ts's types describe the same frames.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Mutable<T> = T extends object ? { -readonly [K in keyof T]: Mutable<T[K]> } : T;
const clientTypesAgree: Same<z.output<typeof clientFrame>['type'], ClientFrame['type']> = true;
const serverTypesAgree: Same<z.output<typeof serverFrame>['type'], ServerFrame['type']> = true;
const publishAgrees: Same<Omit<z.output<typeof publishFrame>, 'data'>, Omit<Mutable<Extract<ClientFrame, { type: 'publish' }>>, 'data'>> = true;
void clientTypesAgree;
void serverTypesAgree;
void publishAgrees;

export type ParseResult<F> = { ok: true; frame: F } | { ok: false; reason: string };

/**
 * Validate an already parsed client frame; the frame returned holds only the fields the protocol
 * defines. The reason names the exact path that failed,
 * e.g. `frame "subscribe": since.offset: Invalid input: expected number, received string`.
 * Never throws.
 * @param value the result of `JSON.parse` of one frame text
 * @returns the frame, or why it is not one
 */
export function parseClientFrame(value: unknown): ParseResult<ClientFrame> {
  const result = clientFrame.safeParse(value);
  // zod's output, not the input: unknown extra fields are stripped, so an `id` on a frame type that has
  // none (`{"type":"unsubscribe","id":5}`) cannot reach code that checks `'id' in frame`.
  if (result.success) return { ok: true, frame: result.data as ClientFrame };
  return { ok: false, reason: describeIssue(value, result.error) };
}

function describeIssue(value: unknown, error: z.ZodError): string {
  const issue = error.issues[0];
  const type = typeof value === 'object' && value !== null && Object.hasOwn(value, 'type') ? (value as { type: unknown }).type : undefined;
  if (!issue) return 'invalid frame';
  if (issue.path.length === 0 || (issue.path.length === 1 && issue.path[0] === 'type')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'frame is not a JSON object';
    return `unknown frame type ${JSON.stringify(type) ?? 'undefined'}`;
  }
  return `frame ${JSON.stringify(type)}: ${issue.path.map(String).join('.')}: ${issue.message}`;
}
