import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, type Client, type TidewireError } from '@tidewire/core';
import { systemClock as serverClock } from '../../server/src/clock';
import { injectedWebSocket } from './helpers/env';
import { startServerProcess } from './helpers/server-process';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * The runtime under stress, end to end through every transport: timers fed from the wire must
 * not overflow (kind 2), and deadlines that fire late after a blocked event loop must judge the
 * line on what already arrived (kind 3).
 */

const DAY = 24 * 60 * 60 * 1000;

const transports = allTransports;

/** TimeoutOverflowWarnings (or any other) emitted while a test runs. */
let warnings: Error[] = [];
const onWarning = (warning: Error) => warnings.push(warning);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** Block this process's event loop, as a long task or a frozen tab would. */
function busyFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin: no timer, no I/O, no microtask runs here
  }
}

describe.each(transports)('runtime stress over %s', (name, transport) => {
  it('a 30-day token expiry: no refresh storm (getToken and authenticate called once each), no TimeoutOverflowWarning', async () => {
    let authenticateCalls = 0;
    await using t = await startServer(
      {
        logger: { warn: () => {}, error: () => {} },
        authenticate: ({ token }) => {
          authenticateCalls++;
          return token ? { user: token, expiresAt: Date.now() + 30 * DAY } : null;
        },
      },
      { transports: [transport()] },
    );
    let getTokenCalls = 0;
    const client = t.client({
      getToken: () => {
        getTokenCalls++;
        return 'alice';
      },
    });
    client.connect();
    await until(() => client.getSnapshot().state === 'connected', 'connected');
    // An observation window: before the fix, ~260 refreshes happened in 3 s.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: name });
    expect(getTokenCalls).toBe(1);
    expect(authenticateCalls).toBe(1);
    expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
  });

  it('a throwing message listener on one of two handles: the other gets all 20, the publishes in flight settle, one listener_error, the line stays', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } }, { transports: [transport()] });
    const client = t.client();
    const errors: TidewireError[] = [];
    const transitions: string[] = [];
    client.on('error', (e) => errors.push(e));
    client.on('state', (c) => transitions.push(c.to.state));
    const a = client.channel('t');
    const b = client.channel('t');
    const gotA: number[] = [];
    const gotB: number[] = [];
    a.on('message', (m) => {
      gotA.push(m.offset);
      if (m.offset === 5) throw new Error('app bug on message 5');
    });
    b.on('message', (m) => gotB.push(m.offset));
    await until(() => a.getSnapshot().state === 'subscribed', 'subscribed');

    const inFlight = Array.from({ length: 5 }, (_, i) => a.publish({ mine: i }));
    await Promise.all(Array.from({ length: 20 }, (_, i) => t.server.publish('t', { server: i })));
    const acks = await Promise.all(inFlight);
    await until(() => gotB.length === 25 && gotA.length === 25, 'both handles see all 25 messages');

    const all = Array.from({ length: 25 }, (_, i) => i + 1);
    expect(gotA).toEqual(all);
    expect(gotB).toEqual(all);
    expect(new Set(acks.map((x) => x.offset)).size).toBe(5);
    expect(a.position?.offset).toBe(25);
    expect(errors.filter((e) => e.code === 'listener_error')).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'listener_error', context: { channel: 't', event: 'message' } });
    expect(transitions).toEqual(['connecting', 'connected']);
  });

  it('a 4 s blocked event loop: the publish resolves, the line stays connected, messages arrive once and in order', async () => {
    await using server = await startServerProcess({ heartbeat: 2000 });
    const client: Client = createClient({
      url: server.url,
      transports: [transport()],
      WebSocket: injectedWebSocket,
      publishTimeout: 2500,
      backoff: () => 20,
    });
    try {
      const transitions: string[] = [];
      const errors: TidewireError[] = [];
      client.on('state', (c) => transitions.push(c.to.state));
      client.on('error', (e) => errors.push(e));
      const channel = client.channel('stress');
      const got: { offset: number; data: unknown }[] = [];
      channel.on('message', (m) => got.push({ offset: m.offset, data: m.data }));
      await until(() => channel.getSnapshot().state === 'subscribed', 'subscribed');

      // The server publishes while this process is frozen, and pings (every 2 s).
      await server.publishLater('stress', [1, 2, 3, 4, 5], 300, 300);
      // A round trip first, so the server heard from us just now: its own silence limit
      // (2 × heartbeat + 1 s = 5 s) is then not what this test measures.
      await channel.publish('warmup');
      let outcome: string | undefined;
      const published = channel.publish('mine').then(
        (ack) => (outcome = `acked at ${ack.offset}`),
        (error: TidewireError) => (outcome = `rejected ${error.code}`),
      );
      busyFor(4000);
      await published;

      expect(outcome).toMatch(/^acked at \d+$/);
      await until(() => got.length === 7, 'all seven messages');
      // Give a late duplicate or a reconnect the chance to show itself before judging.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(got.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(got[0]?.data).toBe('warmup');
      expect(got.map((m) => m.data).filter((d) => typeof d === 'number')).toEqual([1, 2, 3, 4, 5]);
      expect(got.filter((m) => m.data === 'mine')).toHaveLength(1);
      expect(transitions).toEqual(['connecting', 'connected']);
      expect(errors.map((e) => e.code)).not.toContain('heartbeat_timeout');
      expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: name });
    } finally {
      client.close();
    }
  });
});

describe('server clock: clamp and chain', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('40 days fires once, at the right time; NaN fires at once; clearing mid-chain cancels', async () => {
    const fired: string[] = [];
    const start = Date.now();
    serverClock.setTimeout(() => fired.push(`40d@${(Date.now() - start) / DAY}`), 40 * DAY);
    serverClock.setTimeout(() => fired.push('nan'), Number.NaN);
    const cancelled = serverClock.setTimeout(() => fired.push('cancelled'), 30 * DAY);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['nan']);
    await vi.advanceTimersByTimeAsync(26 * DAY);
    serverClock.clearTimeout(cancelled);
    await vi.advanceTimersByTimeAsync(14 * DAY - 2);
    expect(fired).toEqual(['nan']);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual(['nan', '40d@40']);
    await vi.advanceTimersByTimeAsync(100 * DAY);
    expect(fired).toHaveLength(2);
    expect(warnings).toEqual([]);
  });
});
