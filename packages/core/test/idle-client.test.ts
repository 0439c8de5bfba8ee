import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../src/clock';
import { createClient } from '../src/client';
import { ChannelView } from '../src/channel-view';
import type { SubscribeFrame } from '../src/protocol/frames';
import { countingClock } from './counting-clock';
import { connected, fakeTransport } from './fake-transport';

/**
 * What an idle client holds (issue 14, "Idle client memory"): made on first use rather than up
 * front. The bytes are measured by bench/idle-heap.ts; these tests pin the behaviour that keeps
 * them low, and that the lazily bound `getSnapshot`/`subscribe` still work as plain properties.
 */

/** A client subscribed to `room` over a fake line. */
async function subscribedClient(clock?: Clock) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], clock });
  const room = client.channel('room');
  await vi.advanceTimersByTimeAsync(0);
  t.last.open();
  t.last.push(connected());
  await vi.advanceTimersByTimeAsync(0);
  const subscribe = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe');
  expect(subscribe).toBeDefined();
  t.last.push({ type: 'subscribed', id: subscribe!.id, channel: 'room', epoch: 'e1', offset: 0, recovered: false });
  expect(room.getSnapshot().state).toBe('subscribed');
  return { t, client, room };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('an idle client', () => {
  it('arms one timer while idle and subscribed: the heartbeat deadline (no subscribe deadline, outbox or pacer timer left)', async () => {
    const clock = countingClock();
    expect(clock.armed).toBe(0);
    const { client } = await subscribedClient(clock);
    expect(clock.armed).toBe(1);
    client.close();
    expect(clock.armed).toBe(0);
  });

  it('shares one heartbeat timer among the clients of a clock; each still ends at its own deadline', async () => {
    const clock = countingClock();
    const a = await subscribedClient(clock);
    await vi.advanceTimersByTimeAsync(10_000); // the others connect later: their deadlines come later
    const b = await subscribedClient(clock);
    const c = await subscribedClient(clock);
    const ends = new Map<string, number[]>();
    for (const [name, { client }] of Object.entries({ a, b, c })) {
      const start = Date.now();
      ends.set(name, []);
      client.subscribe(() => {
        const s = client.getSnapshot();
        if (s.state === 'reconnecting' && s.error.code === 'heartbeat_timeout') ends.get(name)!.push(Date.now() - start);
      });
    }
    expect(clock.armed).toBe(1);
    // a and c hear a ping every 20 s; b hears nothing: it ends 25 s + 12.5 s after it connected.
    for (let s = 0; s < 3; s++) {
      await vi.advanceTimersByTimeAsync(20_000);
      a.t.last.push({ type: 'ping' });
      c.t.last.push({ type: 'ping' });
    }
    expect(ends).toEqual(new Map([['a', []], ['b', [37_500]], ['c', []]]));
    b.client.close();
    expect(clock.armed).toBe(1); // the watch, for a and c
    await vi.advanceTimersByTimeAsync(37_500); // a and c go silent now: both end at their deadline
    expect(ends).toEqual(new Map([['a', [97_500]], ['b', [37_500]], ['c', [97_500]]]));
    a.client.close();
    c.client.close();
    expect(clock.armed).toBe(0);
  });

  it('arms one outbox deadline for a publish→ack loop (not one per publish), gone once nothing is due', async () => {
    const clock = countingClock();
    const { t, client } = await subscribedClient(clock);
    const roundTrip = async (n: number) => {
      const published = client.publish('room', { n });
      const frame = t.last.sent.filter((f) => f.type === 'publish').at(-1) as { id: string };
      t.last.push({ type: 'ack', id: frame.id, epoch: 'e1', offset: n });
      await expect(published).resolves.toMatchObject({ offset: n });
    };
    await roundTrip(1); // aims the outbox's one timer (at the queue deadline, then at the ack deadline)
    const arm = vi.spyOn(clock, 'setTimeout');
    for (let n = 2; n <= 6; n++) await roundTrip(n);
    expect(arm).not.toHaveBeenCalled(); // later publishes' deadlines come after the armed one
    expect(clock.armed).toBe(2); // the heartbeat and the outbox deadline
    await vi.advanceTimersByTimeAsync(10_000); // publishTimeout: it fires, finds nothing due, does not re-arm
    expect(clock.armed).toBe(1);
    client.close();
    expect(clock.armed).toBe(0);
  });
});

describe('getSnapshot and subscribe, bound on first read', () => {
  it('are callable detached, keep one identity, and can be replaced like plain properties', async () => {
    const { t, client, room } = await subscribedClient();
    const { getSnapshot, subscribe } = client;
    expect(client.getSnapshot).toBe(getSnapshot);
    expect(client.subscribe).toBe(subscribe);
    expect(getSnapshot().state).toBe('connected');
    const roomSnapshot = room.getSnapshot;
    expect(room.getSnapshot).toBe(roomSnapshot);
    expect(roomSnapshot().state).toBe('subscribed');

    const seen: string[] = [];
    const off = subscribe(() => seen.push(getSnapshot().state));
    const offRoom = room.subscribe(() => seen.push(`room:${roomSnapshot().state}`));
    t.last.drop();
    expect(seen).toEqual(expect.arrayContaining(['reconnecting', 'room:subscribing']));
    off();
    offRoom();

    const wrapped = vi.fn(subscribe);
    client.subscribe = wrapped;
    client.subscribe(() => {})();
    expect(wrapped).toHaveBeenCalledTimes(1);
    client.close();
  });
});

describe('a handle acquired during a delivery', () => {
  it('gets the messages after the one being delivered, as every handle gets what arrives once it exists', async () => {
    const { t, client, room } = await subscribedClient();
    const got: string[] = [];
    room.on('message', (m) => {
      got.push(`first:${m.offset}`);
      if (m.offset === 1) client.channel('room').on('message', (n) => got.push(`second:${n.offset}`));
    });
    t.last.push({ type: 'message', channel: 'room', epoch: 'e1', offset: 1, id: 'm1', data: 1 });
    t.last.push({ type: 'message', channel: 'room', epoch: 'e1', offset: 2, id: 'm2', data: 2 });
    expect(got).toEqual(['first:1', 'first:2', 'second:2']);
    client.close();
  });
});

describe('a view of a client behind a Proxy (Vue `reactive`, a store)', () => {
  it('is made (its listeners’ throws go to the host’s uncaught-error handling: the Proxy has no reporter of its own)', async () => {
    const { client } = await subscribedClient();
    const view = new ChannelView(new Proxy(client, {}), { channel: 'room' });
    expect(view.getSnapshot()).toBeDefined();
    client.close();
  });
});

describe('a handle released during a delivery', () => {
  it('gets nothing more of it; the handles still held get everything', async () => {
    const { t, client, room } = await subscribedClient();
    const second = client.channel('room');
    const got: string[] = [];
    room.on('message', (m) => {
      got.push(`first:${m.offset}`);
      second.unsubscribe(); // released before its turn in this delivery
    });
    second.on('message', (m) => got.push(`second:${m.offset}`));
    t.last.push({ type: 'message', channel: 'room', epoch: 'e1', offset: 1, id: 'm1', data: 1 });
    t.last.push({ type: 'message', channel: 'room', epoch: 'e1', offset: 2, id: 'm2', data: 2 });
    expect(got).toEqual(['first:1', 'first:2']);
    client.close();
  });
});
