import { vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import type { TidewireError } from '../src/errors';
import type { ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import type { StandardSchemaV1 } from '../src/schema';
import { connected, fakeTransport } from './fake-transport';

/** Helpers of the app-code-answers suites: a client on a fake transport the test plays the server of. */

export const msg = (offset: number, data: unknown = offset): ServerFrame => ({ type: 'message', channel: 't', epoch: 'e1', offset, id: `m${offset}`, data });

export function setup(options: Partial<ClientOptions> = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 10, ...options });
  const errors: TidewireError[] = [];
  client.on('error', (e) => errors.push(e));
  return { t, client, errors };
}

/** Open the line, answer the handshake and every subscribe sent so far. */
export async function accept(t: ReturnType<typeof fakeTransport>) {
  t.last.open();
  t.last.push(connected());
  await vi.advanceTimersByTimeAsync(0);
  for (const sub of t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe')) {
    t.last.push({ type: 'subscribed', id: sub.id, channel: sub.channel, epoch: 'e1', offset: 0, recovered: true });
  }
}

/** A schema that accepts everything but answers `bad()` for the value 'bad'. */
export const schemaAnswering = (bad: () => unknown): StandardSchemaV1<unknown, unknown> => ({
  '~standard': { version: 1, vendor: 'test', validate: (v: unknown) => (v === 'bad' ? bad() : { value: v }) as never },
});
