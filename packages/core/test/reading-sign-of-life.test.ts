import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { fallbackPlan } from '../src/fallback-plan';
import type { ClientFrame } from '../src/protocol/frames';
import type { TransportEvents, TransportFactory } from '../src/transport';
import { connected } from './fake-transport';

/**
 * While a frame too big for the line is being read, the server's pings wait behind it and the
 * client's pongs cannot answer them: the client sends an unprompted `pong` once per heartbeat in
 * which bytes arrived but no whole frame, so the server does not drop a client that is reading.
 */
const HEARTBEAT = 2000;

function line() {
  const sent: ClientFrame[] = [];
  let events: TransportEvents | undefined;
  const factory: TransportFactory = {
    name: 'sse',
    plan: fallbackPlan,
    open(_context, e) {
      events = e;
      return { send: (text) => void sent.push(JSON.parse(text) as ClientFrame), close: () => {} };
    },
  };
  return { factory, sent, events: () => events! };
}

describe('a client reading a frame slower than the heartbeat', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('sends an unprompted pong per heartbeat while bytes arrive without a whole frame', async () => {
    const l = line();
    const client = createClient({ url: 'http://tidewire.test/tidewire', transports: [l.factory] });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    l.events().onOpen();
    l.events().onFrame(JSON.stringify(connected(HEARTBEAT)));
    const pongs = () => l.sent.filter((f) => f.type === 'pong').length;
    // 5 s of a big frame trickling in: a chunk every 100 ms, no frame completes.
    for (let t = 0; t < 5000; t += 100) {
      l.events().onActivity?.();
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(client.getSnapshot().state).toBe('connected');
    expect(pongs()).toBeGreaterThanOrEqual(2);
    expect(pongs()).toBeLessThanOrEqual(3);
    client.close();
  });

  it('sends none while whole frames keep arriving', async () => {
    const l = line();
    const client = createClient({ url: 'http://tidewire.test/tidewire', transports: [l.factory] });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    l.events().onOpen();
    l.events().onFrame(JSON.stringify(connected(HEARTBEAT)));
    for (let t = 0; t < 5000; t += 100) {
      l.events().onActivity?.();
      l.events().onFrame(JSON.stringify({ type: 'pong' }));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(l.sent.filter((f) => f.type === 'pong')).toEqual([]);
    client.close();
  });
});
