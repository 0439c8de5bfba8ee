import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TidewireError } from '../src/errors';
import { rpc } from '../src/rpc';
import { connectedClient } from './fake-transport';

/**
 * An answer settles only the kind of request it answers (frame-router.ts): a server that sends an
 * rpc's `result` for a pending publish, or an `ack` for a pending rpc, broke the protocol — reported
 * `invalid_frame`, and the request keeps waiting for its own answer instead of resolving with the
 * wrong shape.
 */
describe('answers of the wrong kind', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('a result naming a pending publish does not resolve it; its ack still does', async () => {
    const { t, client } = await connectedClient();
    const errors: TidewireError[] = [];
    client.on('error', (e) => void errors.push(e));
    let settled: unknown;
    const publishing = client.publish('room', 'x').then((r) => (settled = r));
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.find((f) => f.type === 'publish')!;
    t.last.push({ type: 'result', id: sent.id, data: 'an rpc result' });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBeUndefined();
    expect(errors).toMatchObject([{ name: 'ProtocolError', code: 'invalid_frame', message: expect.stringMatching(/answered the publish .* with a "result" frame/) }]);
    t.last.push({ type: 'ack', id: sent.id, epoch: 'e', offset: 7 });
    await publishing;
    expect(settled).toEqual({ id: sent.id, epoch: 'e', offset: 7 });
    client.close();
  });

  it('an ack naming a pending rpc does not resolve it; its result still does', async () => {
    const { t, client } = await connectedClient();
    const errors: TidewireError[] = [];
    client.on('error', (e) => void errors.push(e));
    let settled: unknown;
    const calling = rpc(client, 'sum', [1, 2]).then((r) => (settled = r));
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.find((f) => f.type === 'rpc')!;
    t.last.push({ type: 'ack', id: sent.id, epoch: 'e', offset: 1 });
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toBeUndefined();
    expect(errors).toMatchObject([{ code: 'invalid_frame' }]);
    t.last.push({ type: 'result', id: sent.id, data: 3 });
    await calling;
    expect(settled).toBe(3);
    client.close();
  });
});
