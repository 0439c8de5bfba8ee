import type { ClientFrame, ServerFrame } from './frames';
import { CLOSE_CODES, ERROR_CODES } from './frames';

/**
 * One hand-written validator for every frame, used by both sides.
 * Measured: a zod/mini schema of the same union costs ~6 KB min+gzip, more than
 * the whole client budget; this table costs a few hundred bytes.
 */

// s: string · i: non-negative integer · b: boolean · u: any JSON value (key must exist)
// p: position · e: error code · c: close code · trailing ?: optional
type Check = 's' | 'i' | 'b' | 'u' | 'p' | 'e' | 'c' | 's?' | 'i?' | 'p?';
type Shapes<F extends { type: string }> = { readonly [T in F['type']]: Readonly<Record<string, Check>> };

const CLIENT_SHAPES: Shapes<ClientFrame> = {
  connect: { v: 'i', token: 's?' },
  subscribe: { id: 's', channel: 's', since: 'p?' },
  unsubscribe: { channel: 's' },
  publish: { id: 's', channel: 's', data: 'u' },
  refresh: { id: 's', token: 's' },
  ping: {},
  pong: {},
};

const SERVER_SHAPES: Shapes<ServerFrame> = {
  connected: { v: 'i', session: 's', heartbeat: 'i', maxPayload: 'i', expiresIn: 'i?' },
  subscribed: { id: 's', channel: 's', epoch: 's', offset: 'i', recovered: 'b' },
  unsubscribed: { channel: 's', code: 'e', message: 's' },
  message: { channel: 's', epoch: 's', offset: 'i', id: 's', data: 'u' },
  ack: { id: 's', epoch: 's', offset: 'i' },
  refreshed: { id: 's', expiresIn: 'i?' },
  error: { id: 's?', code: 'e', message: 's', retryAfter: 'i?' },
  close: { code: 'c', message: 's', retryAfter: 'i?' },
  ping: {},
  pong: {},
};

const isInt = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkValue(check: Check, v: unknown, present: boolean): boolean {
  const optional = check.endsWith('?');
  if (!present || v === undefined) return optional || (check === 'u' && present);
  switch (check[0]) {
    case 's':
      return typeof v === 'string';
    case 'i':
      return isInt(v);
    case 'b':
      return typeof v === 'boolean';
    case 'p': {
      const p = v as { epoch?: unknown; offset?: unknown } | null;
      return typeof p === 'object' && p !== null && typeof p.epoch === 'string' && isInt(p.offset);
    }
    case 'e':
      return (ERROR_CODES as readonly unknown[]).includes(v);
    case 'c':
      return (CLOSE_CODES as readonly unknown[]).includes(v);
    default:
      return true; // 'u'
  }
}

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
  const shape = typeof obj.type === 'string' ? shapes[obj.type] : undefined;
  if (!shape) return { ok: false, reason: `unknown frame type ${JSON.stringify(obj.type)}` };
  for (const key in shape) {
    if (!checkValue(shape[key]!, obj[key], key in obj)) {
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

/** Whether `text` encodes to at most `limit` bytes of UTF-8; counts only when it could matter. */
export function fitsByteLimit(text: string, limit: number): boolean {
  if (text.length * 3 <= limit) return true; // even all-3-byte characters would fit
  if (text.length > limit) return false;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes <= limit;
}
