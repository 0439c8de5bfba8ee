import type { ClientFrame, Position, ServerFrame } from './frames';
import { CLOSE_CODES, ERROR_CODES, LINES_FEATURE, PRESENCE_END_FEATURE, PROTOCOL_VERSION } from './frames';

/**
 * The client's small hand-written validator for every frame. The protocol's one schema is the
 * zod schema in packages/server/src/protocolSchema.ts (which the server validates with); a property
 * test (packages/server/test/protocolSchema.test.ts) proves these tables accept exactly what it
 * accepts, both directions, so the two cannot drift. Why not zod here: a zod/mini schema of the
 * same union costs ~6 KB min+gzip, more than the whole client budget; these tables cost a few hundred bytes. The checks are
 * plain functions (no calls at module level), so a bundle keeps only the table
 * it uses and the checks that table names: the client ships SERVER_SHAPES only.
 */

/** A field check. JSON never holds `undefined`, so `undefined` means the key is absent. */
type Check = (value: unknown) => boolean;
type Shapes<F extends { type: string }> = { readonly [T in F['type']]: Readonly<Record<string, Check>> };

const string: Check = (v) => typeof v === 'string';
const integer: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0; // non-negative
const boolean: Check = (v) => typeof v === 'boolean';
const anyValue: Check = (v) => v !== undefined; // any JSON value, but the key must be there
const errorCode: Check = (v) => (ERROR_CODES as readonly unknown[]).includes(v);
const closeCode: Check = (v) => (CLOSE_CODES as readonly unknown[]).includes(v);
const position: Check = (v) => typeof v === 'object' && v !== null && string((v as Position).epoch) && integer((v as Position).offset);
const optionalString: Check = (v) => v === undefined || string(v);
const optionalTrue: Check = (v) => v === undefined || v === true;
const optionalInteger: Check = (v) => v === undefined || integer(v);
const optionalPosition: Check = (v) => v === undefined || position(v);
const optionalLimits: Check = (v) =>
  v === undefined || (typeof v === 'object' && v !== null && integer((v as { rate: unknown }).rate) && integer((v as { burst: unknown }).burst));

const optionalStrings: Check = (v) => v === undefined || (Array.isArray(v) && v.every(string));
const record = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const member: Check = (v) => record(v) && string(v.clientId) && anyValue(v.user);
const members: Check = (v) => Array.isArray(v) && v.every(member);
const historyMessages: Check = (v) => Array.isArray(v) && v.every((m) => record(m) && integer(m.offset) && string(m.id) && anyValue(m.data));
// Enumerations are written out as plain checks, not built by a call such as `oneOf('join', 'leave')`:
// a call at module level cannot be tree-shaken, and it kept CLIENT_SHAPES in every client bundle.
const optionalDirection: Check = (v) => v === undefined || v === 'backward' || v === 'forward';
const presenceAction: Check = (v) => v === 'join' || v === 'leave';
const optionalAny: Check = () => true;

const CLIENT_SHAPES: Shapes<ClientFrame> = {
  connect: { v: integer, token: optionalString, features: optionalStrings },
  subscribe: { id: string, channel: string, since: optionalPosition, recent: optionalInteger },
  unsubscribe: { channel: string },
  publish: { id: string, channel: string, data: anyValue },
  refresh: { id: string, token: string },
  presence_subscribe: { id: string, channel: string },
  presence_unsubscribe: { channel: string },
  enter: { id: string, channel: string, info: optionalAny },
  leave: { channel: string },
  history: { id: string, channel: string, limit: integer, before: optionalInteger, after: optionalInteger, direction: optionalDirection },
  rpc: { id: string, method: string, data: anyValue },
  ping: {},
  pong: {},
};

const SERVER_SHAPES: Shapes<ServerFrame> = {
  connected: { v: integer, session: string, heartbeat: integer, maxPayload: integer, expiresIn: optionalInteger, limits: optionalLimits, features: optionalStrings },
  subscribed: { id: string, channel: string, epoch: string, offset: integer, recovered: boolean },
  unsubscribed: { channel: string, code: errorCode, message: string },
  message: { channel: string, epoch: string, offset: integer, id: string, data: anyValue, skip: optionalTrue },
  ack: { id: string, epoch: string, offset: integer },
  refreshed: { id: string, expiresIn: optionalInteger },
  error: { id: optionalString, code: errorCode, message: string, retryAfter: optionalInteger, appCode: optionalString },
  result: { id: string, data: anyValue },
  presence_snapshot: { id: string, channel: string, members },
  presence_change: { channel: string, action: presenceAction, member },
  presence_unsubscribed: { channel: string, code: errorCode, message: string },
  left: { channel: string, code: errorCode, message: string },
  entered: { id: string, channel: string },
  history_page: { id: string, channel: string, epoch: string, head: integer, messages: historyMessages, more: boolean },
  close: { code: closeCode, message: string, retryAfter: optionalInteger },
  ping: {},
  pong: {},
};

/** `SERVER_SHAPES.message`, written out (protocolSchema.test.ts holds both to the zod schema). */
const isMessage = (m: Record<string, unknown>): boolean =>
  typeof m.channel === 'string' && typeof m.epoch === 'string' && integer(m.offset) && typeof m.id === 'string' && m.data !== undefined && (m.skip === undefined || m.skip === true);

export type DecodeResult<F> = { ok: true; frame: F } | { ok: false; reason: string };

function decodeWith<F>(shapes: Readonly<Record<string, Readonly<Record<string, Check>>>>, text: unknown): DecodeResult<F> {
  if (typeof text !== 'string') return { ok: false, reason: 'frame is not text' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'frame is not a JSON object' };
  }
  const obj = value as Record<string, unknown>;
  // The frame nearly every read is: its checks written out, no table walk (a push or fan-out
  // profile, issue 14). Anything it does not accept goes on to the table, which names the field.
  if (obj.type === 'message' && shapes === SERVER_SHAPES && isMessage(obj)) return { ok: true, frame: value as F };
  // Own properties only: a `type` of "constructor" or "__proto__" must be unknown, not Object.prototype's.
  const shape = typeof obj.type === 'string' && Object.hasOwn(shapes, obj.type) ? shapes[obj.type] : undefined;
  if (!shape) return { ok: false, reason: `unknown frame type ${JSON.stringify(obj.type)}` };
  for (const key in shape) {
    if (!shape[key]!(obj[key])) {
      return { ok: false, reason: `frame "${obj.type}": field "${key}" is missing or invalid` };
    }
  }
  return { ok: true, frame: value as F };
}

/** Parse and validate a frame the server sent. Never throws. */
export const decodeServerFrame = (text: unknown): DecodeResult<ServerFrame> => decodeWith(SERVER_SHAPES, text);

/** Parse and validate a frame a client sent. Never throws. */
export const decodeClientFrame = (text: unknown): DecodeResult<ClientFrame> => decodeWith(CLIENT_SHAPES, text);

export const encodeFrame = (frame: ClientFrame | ServerFrame): string => JSON.stringify(frame);

/**
 * The client's first frame (protocol §2): the version, the token (never in the URL) and the
 * capabilities every client transport accepts — `lines` (§17.4: only a WebSocket server uses it)
 * and `presence_end` (§14).
 * @param token the token, or undefined / '' for none
 */
export const connectFrame = (token: string | undefined): string =>
  encodeFrame({ type: 'connect', v: PROTOCOL_VERSION, token: token || undefined, features: [LINES_FEATURE, PRESENCE_END_FEATURE] });

/**
 * Whether `text` encodes to at most `limit` bytes of UTF-8, as a WebSocket sends it (a lone
 * surrogate becomes U+FFFD). Encodes only when it could matter; the native encoder measured
 * 4-8x faster than counting in a loop.
 */
export function fitsByteLimit(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return true; // even all-3-byte characters would fit
  return text.length <= limit && new TextEncoder().encode(text).length <= limit;
}
