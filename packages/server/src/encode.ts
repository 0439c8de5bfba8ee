import { encodeFrame } from '@tidewire/core/protocol';
import type { BrokerMessage } from './broker/broker';

/**
 * A published message goes to every subscriber as the same `message` frame;
 * encode it once per message instead of once per subscriber. Weak: the cache
 * lives exactly as long as the broker keeps the message (history) alive.
 */
const cache = new WeakMap<BrokerMessage, { channel: string; text: string }>();

export function encodeMessage(channel: string, m: BrokerMessage): string {
  const hit = cache.get(m);
  if (hit?.channel === channel) return hit.text;
  const text = encodeFrame({ type: 'message', channel, epoch: m.epoch, offset: m.offset, id: m.id, data: m.data });
  cache.set(m, { channel, text });
  return text;
}

/** The `id` of a frame that failed validation, if one can be read, so the error can be correlated. */
export function peekId(text: string): string | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && 'id' in value) {
      const id = (value as { id: unknown }).id;
      if (typeof id === 'string' && id.length <= 256) return id;
    }
  } catch {
    // not JSON: no id to report
  }
  return undefined;
}
