import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import type { TidewireError } from '../src/errors';
import type { RefreshFrame, ServerFrame } from '../src/protocol/frames';
import { connected, fakeTransport } from './fake-transport';

/**
 * Kind 9 (the parts in connection.ts/token.ts): `getToken` is app code with a deadline. A hang
 * is a failed attempt (`timeout`), a throw is a failed attempt (`listener_error`) that never
 * counts against the transport, and an in-band refresh that gets no answer reconnects.
 */

function setup(options: Partial<ClientOptions>, names: ('websocket' | 'sse' | 'longpoll')[] = ['websocket']) {
  const transports = names.map((name) => fakeTransport(name));
  const client = createClient({ url: 'ws://x/tw', transports: transports.map((t) => t.factory), backoff: () => 100, ...options });
  const errors: TidewireError[] = [];
  client.on('error', (e) => errors.push(e));
  return { transports, t: transports[0]!, client, errors };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('getToken rules', () => {
  it('a getToken that never answers ends the attempt at the connect timeout (timeout) and backs off; the next attempt asks again', async () => {
    let calls = 0;
    const { t, client } = setup({
      connectTimeout: 2000,
      getToken: () => {
        calls++;
        return calls === 1 ? new Promise<string>(() => {}) : 'fresh';
      },
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(1999);
    expect(client.getSnapshot().state).toBe('connecting');
    expect(t.lines).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(client.getSnapshot()).toMatchObject({
      state: 'reconnecting',
      attempt: 2,
      retryIn: 100,
      error: { code: 'timeout', context: { callback: 'getToken' } },
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBe(2); // not stuck behind the hung call
    expect(t.lines).toHaveLength(1);
    t.last.open();
    t.last.push(connected());
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });

  it.each([
    ['throws', () => {
      throw new Error('token service down');
    }],
    ['rejects', () => Promise.reject(new Error('token service down'))],
  ])('a getToken that %s: listener_error reported, a failed attempt with backoff, no fallback to another transport', async (_, failing) => {
    let calls = 0;
    const { transports, client, errors } = setup(
      {
        getToken: () => (++calls <= 3 ? failing() : 'tok'),
      },
      ['websocket', 'sse', 'longpoll'],
    );
    client.connect();
    for (let attempt = 1; attempt <= 3; attempt++) {
      await vi.advanceTimersByTimeAsync(0);
      expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', error: { code: 'listener_error', context: { callback: 'getToken' } } });
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(errors.filter((e) => e.code === 'listener_error')).toHaveLength(3);
    expect(errors[0]!.cause).toEqual(new Error('token service down'));
    // Three failures of the app's callback, and the client still opens its preferred transport.
    expect(transports[0]!.lines).toHaveLength(1);
    expect(transports[1]!.lines).toHaveLength(0);
    expect(transports[2]!.lines).toHaveLength(0);
    expect(client.getSnapshot()).toMatchObject({ state: 'connecting', transport: 'websocket' });
    client.close();
  });

  it('an in-band refresh with no answer reconnects with a fresh token', async () => {
    const tokens = ['first', 'refreshed', 'after-reconnect'];
    const getToken = vi.fn(() => tokens.shift() ?? 'more');
    const { t, client } = setup({ getToken, connectTimeout: 5000 });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(60_000), expiresIn: 50_000 } as ServerFrame);
    await vi.advanceTimersByTimeAsync(40_000); // refresh at expiry − min(30 s, expiry / 5) = 40 s
    const refresh = t.last.sent.find((f): f is RefreshFrame => f.type === 'refresh');
    expect(refresh).toMatchObject({ token: 'refreshed', id: expect.stringMatching(/^[\w-]{21}$/) });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(client.getSnapshot().state).toBe('connected');
    await vi.advanceTimersByTimeAsync(1);
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', error: { code: 'token_expired' } });
    await vi.advanceTimersByTimeAsync(100);
    expect(getToken).toHaveBeenLastCalledWith({ reason: 'expired' });
    expect(t.lines).toHaveLength(2);
    client.close();
  });

  it('a refresh answered in time keeps the line', async () => {
    const { t, client } = setup({ getToken: () => 'tok' });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(60_000), expiresIn: 50_000 } as ServerFrame);
    await vi.advanceTimersByTimeAsync(40_000);
    const refresh = t.last.sent.find((f): f is RefreshFrame => f.type === 'refresh')!;
    t.last.push({ type: 'refreshed', id: refresh.id });
    t.last.push({ type: 'ping' });
    await vi.advanceTimersByTimeAsync(30_000);
    expect(client.getSnapshot().state).toBe('connected');
    expect(t.lines).toHaveLength(1);
    client.close();
  });

  it('a getToken that hangs at refresh time is reported (timeout) and does not block the next connect', async () => {
    let calls = 0;
    const { t, client, errors } = setup({
      connectTimeout: 1000,
      getToken: () => (++calls === 2 ? new Promise<string>(() => {}) : `tok${calls}`),
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(60_000), expiresIn: 50_000 } as ServerFrame);
    await vi.advanceTimersByTimeAsync(40_000 + 10_000);
    expect(errors).toMatchObject([{ code: 'timeout', context: { callback: 'getToken', reason: 'refresh' } }]);
    t.last.push({ type: 'close', code: 'token_expired', message: 'expired' } as ServerFrame);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBe(3);
    expect(t.lines).toHaveLength(2);
    client.close();
  });
  it('a refresh getToken that hangs past a short token life is reported at the expiry, and the reconnect after token_expired asks afresh at once', async () => {
    const reasons: string[] = [];
    const { t, client, errors } = setup({
      connectTimeout: 5000,
      getToken: ({ reason }) => {
        reasons.push(reason);
        return reason === 'refresh' ? new Promise<string>(() => {}) : `tok-${reason}`;
      },
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(60_000), expiresIn: 2000 } as ServerFrame);
    await vi.advanceTimersByTimeAsync(1600); // refresh at 2000 − 2000 / 5
    expect(reasons).toEqual(['connect', 'refresh']);
    expect(errors).toEqual([]);
    await vi.advanceTimersByTimeAsync(400); // the token's expiry: the refresh has not answered
    expect(errors).toMatchObject([{ code: 'timeout', context: { callback: 'getToken', reason: 'refresh' } }]);
    t.last.push({ type: 'close', code: 'token_expired', message: 'expired' } as ServerFrame);
    await vi.advanceTimersByTimeAsync(100); // the backoff, not a connect timeout
    expect(reasons).toEqual(['connect', 'refresh', 'expired']);
    expect(t.lines).toHaveLength(2);
    t.last.open();
    t.last.push(connected(60_000));
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });

  it('token_expired while a refresh is still within its deadline: the reconnect does not join the hung refresh', async () => {
    const reasons: string[] = [];
    const { t, client } = setup({
      connectTimeout: 5000,
      getToken: ({ reason }) => {
        reasons.push(reason);
        return reason === 'refresh' ? new Promise<string>(() => {}) : `tok-${reason}`;
      },
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(60_000), expiresIn: 50_000 } as ServerFrame);
    await vi.advanceTimersByTimeAsync(40_000);
    t.last.push({ type: 'close', code: 'token_expired', message: 'expired early' } as ServerFrame);
    await vi.advanceTimersByTimeAsync(100);
    expect(reasons).toEqual(['connect', 'refresh', 'expired']);
    expect(t.lines).toHaveLength(2);
    client.close();
  });

  it.each([
    ['a number', 42],
    ['null', null],
    ['an object', { token: 'x' }],
  ])('a getToken answering %s is a listener_error (the attempt fails and backs off), not a token sent on the wire', async (_label, answer) => {
    let calls = 0;
    const { t, client, errors } = setup({ getToken: () => (++calls === 1 ? (answer as unknown as string) : 'good') });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(errors).toMatchObject([{ code: 'listener_error', context: { callback: 'getToken', reason: 'connect' } }]);
    expect(errors[0]!.cause).toBeInstanceOf(TypeError);
    expect(client.getSnapshot()).toMatchObject({ state: 'reconnecting', error: { code: 'listener_error' } });
    expect(t.lines).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(t.lines).toHaveLength(1);
    t.last.open();
    expect(t.last.sent[0]).toMatchObject({ type: 'connect', token: 'good' });
    client.close();
  });
});
