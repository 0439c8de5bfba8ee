import type { BrokerMessage, PublishResult } from '@tidewire/server';

/**
 * The message body stored in the stream and carried by notifications: JSON
 * `[id, data]`. Epoch and offset are not in it; the Lua script assigns them.
 */
export function encodeBody(id: string, data: unknown): string {
  return JSON.stringify([id, data]);
}

function decodeBody(body: string, epoch: string, offset: number): BrokerMessage {
  const [id, data] = JSON.parse(body) as [string, unknown];
  return { id, epoch, offset, data };
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
 * @returns [] for a payload that is not one (or whose body count does not match its offsets)
 */
export function decodeNotification(payload: string, header = readNotificationHeader(payload)): BrokerMessage[] {
  if (!header) return [];
  let bodies: unknown;
  try {
    bodies = JSON.parse(payload.slice(header.bodiesAt));
  } catch {
    return [];
  }
  if (!Array.isArray(bodies) || bodies.length !== header.last - header.first + 1) return [];
  return (bodies as [string, unknown][]).map(([id, data], i) => ({ id, epoch: header.epoch, offset: header.first + i, data }));
}

/** Stream entry id `<offset>-0` → offset. */
export function entryOffset(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

/** An XRANGE reply (`[[id, [field, value, …]], …]`) → messages of `epoch`. */
export function decodeEntries(reply: unknown, epoch: string): BrokerMessage[] {
  if (!Array.isArray(reply)) return [];
  const messages: BrokerMessage[] = [];
  for (const entry of reply as [string, string[]][]) {
    const fields = entry[1];
    const body = fields[fields.indexOf('b') + 1];
    if (body === undefined) continue;
    messages.push(decodeBody(body, epoch, entryOffset(entry[0])));
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
