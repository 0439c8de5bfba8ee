import type { BrokerMessage, PublishResult } from '@tidewire/server';

/**
 * The message body stored in the stream and carried by notifications: JSON
 * `[id, data]`. Epoch and offset are not in it; the Lua script assigns them.
 */
export function encodeBody(id: string, data: unknown): string {
  return JSON.stringify([id, data]);
}

/** A stored body as encodeBody wrote it: `[id, data]`. */
const isBody = (value: unknown): value is [string, unknown] => Array.isArray(value) && value.length === 2 && typeof value[0] === 'string';

/** @returns the message, or undefined for a body this codec did not write (another writer's junk, a corrupted entry) */
function decodeBody(body: string, epoch: string, offset: number): BrokerMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  return isBody(value) ? { id: value[0], epoch, offset, data: value[1] } : undefined;
}

/** The offsets a notification carries, read without decoding its bodies (see decodeNotification). */
export interface NotificationHeader {
  readonly first: number;
  readonly last: number;
  readonly epoch: string;
  /** Where the bodies (a JSON array) start in the payload. */
  readonly bodiesAt: number;
}

/**
 * The header of a notification `*<first>:<last>:<epoch>:[<body>,…]` — one per publish script call,
 * carrying every message the call stored, offsets first..last (epochs are base64url: no `:`).
 * @returns undefined for anything else (the `<offset>:<epoch>:<body>` of releases before it too:
 *   nodes of both formats do not understand each other, see docs/scaling.md)
 */
export function readNotificationHeader(payload: string): NotificationHeader | undefined {
  if (payload.charCodeAt(0) !== 42 /* '*' */) return undefined;
  const a = payload.indexOf(':');
  const b = payload.indexOf(':', a + 1);
  const c = payload.indexOf(':', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const first = Number(payload.slice(1, a));
  const last = Number(payload.slice(a + 1, b));
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || first < 1 || last < first) return undefined;
  return { first, last, epoch: payload.slice(b + 1, c), bodiesAt: c + 1 };
}

/**
 * The messages of a notification (see readNotificationHeader), in offset order.
 * @returns undefined for a payload that is not one — not a header, bodies that are not `[id, data]`,
 *   or a body count that does not match its offsets (the caller reads the stream instead)
 */
export function decodeNotification(payload: string, header = readNotificationHeader(payload)): BrokerMessage[] | undefined {
  if (!header) return undefined;
  let bodies: unknown;
  try {
    bodies = JSON.parse(payload.slice(header.bodiesAt));
  } catch {
    return undefined;
  }
  if (!Array.isArray(bodies) || bodies.length !== header.last - header.first + 1 || !bodies.every(isBody)) return undefined;
  return (bodies as [string, unknown][]).map(([id, data], i) => ({ id, epoch: header.epoch, offset: header.first + i, data }));
}

/** Stream entry id `<offset>-0` → offset. */
export function entryOffset(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/**
 * An XRANGE reply (`[[id, [field, value, …]], …]`) → messages of `epoch`. An entry this codec did not
 * write is left out, as if trimmed: the offset jump it leaves reaches clients as a typed gap
 * (history_exhausted), never as a stream that stops at it.
 */
export function decodeEntries(reply: unknown, epoch: string): BrokerMessage[] {
  if (!Array.isArray(reply)) return [];
  const messages: BrokerMessage[] = [];
  for (const entry of reply as unknown[]) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
    const fields = entry[1] as unknown[];
    const body = fields[fields.indexOf('b') + 1];
    const message = typeof body === 'string' ? decodeBody(body, epoch, entryOffset(entry[0])) : undefined;
    if (message && Number.isSafeInteger(message.offset)) messages.push(message);
  }
  return messages;
}

/**
 * The publish script's reply (see PUBLISH_BATCH_SCRIPT) → one result per message of the call:
 * `[epoch, first, …(index, epoch, offset) per duplicate]`; the messages not listed as duplicates
 * were stored at first, first + 1, … in order.
 * @param count how many messages the call carried
 */
export function decodePublishReply(reply: readonly unknown[], count: number): PublishResult[] {
  const epoch = String(reply[0]);
  let next = Number(reply[1]);
  let dup = 2; // the next duplicate's triple in the reply
  const results: PublishResult[] = [];
  for (let i = 1; i <= count; i++) {
    if (Number(reply[dup]) === i) {
      results.push({ epoch: String(reply[dup + 1]), offset: Number(reply[dup + 2]), duplicate: true });
      dup += 3;
    } else {
      results.push({ epoch, offset: next++, duplicate: false });
    }
  }
  return results;
}
