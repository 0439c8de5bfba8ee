import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client';
import { fakeTransport } from './fake-transport';

/** Data JSON cannot encode is refused by the returned promise, never thrown at the caller (issue 9 kind 7). */
describe('publishing data that cannot be encoded', () => {
  const deep = (levels: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < levels; i++) value = { v: value };
    return value;
  };
  const circular: Record<string, unknown> = {};
  circular.self = circular;

  it.each([
    ['nested past the engine stack', deep(200_000)],
    ['circular', circular],
    ['a BigInt', { n: 1n }],
    // Not JSON values at all: JSON.stringify would drop them and send the frame without data.
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('x')],
  ])('%s: rejects bad_request, nothing is queued, the client keeps working', async (_name, data) => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory], lazy: false });
    let result: Promise<unknown> | undefined;
    expect(() => (result = client.publish('room', data))).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: 'bad_request' });
    expect(client.pendingPublishes).toBe(0);
    // An ordinary publish afterwards is queued as usual.
    void client.publish('room', { ok: true }).catch(() => {});
    expect(client.pendingPublishes).toBe(1);
    client.close();
  });
});
