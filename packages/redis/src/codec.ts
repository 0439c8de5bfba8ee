import type { BrokerMessage } from '@tidewire/server';

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

/** A notification `<offset>:<epoch>:<body>` (epochs are nanoids: no `:`). */
export function decodeNotification(payload: string): BrokerMessage | undefined {
  const first = payload.indexOf(':');
  const second = payload.indexOf(':', first + 1);
  if (first < 0 || second < 0) return undefined;
  const offset = Number(payload.slice(0, first));
  if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
  try {
    return decodeBody(payload.slice(second + 1), payload.slice(first + 1, second), offset);
  } catch {
    return undefined;
  }
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
