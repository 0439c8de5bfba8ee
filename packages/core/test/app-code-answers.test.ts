import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import type { TidewireError } from '../src/errors';
import type { ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import type { StandardSchemaV1 } from '../src/schema';
import { connected, fakeTransport } from './fake-transport';

/**
 * App code that answers garbage (not only app code that throws) is isolated as well: a schema
 * whose validate returns nothing, `issues` that are not an array or a thenable that is not a
 * native Promise; each is a `listener_error`, the message is consumed at its offset, delivery goes on,
 * and a publish rejects instead of throwing.
 */

const msg = (offset: number, data: unknown = offset): ServerFrame => ({ type: 'message', channel: 't', epoch: 'e1', offset, id: `m${offset}`, data });

function setup(options: Partial<ClientOptions> = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 10, ...options });
  const errors: TidewireError[] = [];
  client.on('error', (e) => errors.push(e));
  return { t, client, errors };
}

/** Open the line, answer the handshake and every subscribe sent so far. */
async function accept(t: ReturnType<typeof fakeTransport>) {
  t.last.open();
  t.last.push(connected());
  await vi.advanceTimersByTimeAsync(0);
  for (const sub of t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe')) {
    t.last.push({ type: 'subscribed', id: sub.id, channel: sub.channel, epoch: 'e1', offset: 0, recovered: true });
  }
}

/** A schema that accepts everything but answers `bad()` for the value 'bad'. */
const schemaAnswering = (bad: () => unknown): StandardSchemaV1<unknown, unknown> => ({
  '~standard': { version: 1, vendor: 'test', validate: (v: unknown) => (v === 'bad' ? bad() : { value: v }) as never },
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a schema that answers garbage', () => {
  const answers: Array<[string, () => unknown]> = [
    ['undefined', () => undefined],
    ['{ issues: 5 }', () => ({ issues: 5 })],
    ['issues of strings', () => ({ issues: ['nope'] })],
    ['a thenable that is not a Promise', () => ({ then: (resolve: (v: unknown) => void) => resolve({ value: 'bad' }) })],
    ['a number', () => 7],
  ];

  it.each(answers)('validate returning %s: listener_error on the client and the channel, consumed at its offset, delivery goes on; publish rejects', async (_label, bad) => {
    const { t, client, errors } = setup();
    const room = client.channel('t', { schema: schemaAnswering(bad) });
    const plain = client.channel('t');
    const seen: unknown[] = [];
    const seenPlain: unknown[] = [];
    const channelErrors: TidewireError[] = [];
    room.on('message', (m) => seen.push(m.data));
    room.on('error', (e) => channelErrors.push(e));
    plain.on('message', (m) => seenPlain.push(m.data));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(msg(1));
    t.last.push(msg(2, 'bad'));
    t.last.push(msg(3));
    expect(seen).toEqual([1, 3]);
    expect(seenPlain).toEqual([1, 'bad', 3]); // another handle (no schema) still gets it
    expect(room.position).toEqual({ epoch: 'e1', offset: 3 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'listener_error', context: { callback: 'schema', channel: 't' } });
    expect(errors[0]!.cause).toBeInstanceOf(TypeError);
    expect(channelErrors).toEqual([errors[0]]);
    expect(t.last.closedByClient).toBe(false);

    let outcome: Promise<unknown> | undefined;
    expect(() => (outcome = room.publish('bad'))).not.toThrow();
    await expect(outcome).rejects.toMatchObject({ code: 'listener_error', context: { callback: 'schema' } });
    expect(t.last.sent.filter((f) => f.type === 'publish')).toEqual([]);
    client.close();
  });
});
