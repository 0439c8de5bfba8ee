import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client } from '../src/client';
import type { PublishFrame } from '../src/protocol/frames';
import { connected, connectedClient as connectedOnFake, fakeTransport } from './fake-transport';

/**
 * The fault kind: the wall clock is set (NTP steps it, a user changes it, a VM resumes) while the
 * client runs. Every duration the client measures — heartbeat silence, request pacing, outbox
 * deadlines, timer lateness — is on a monotonic clock, so a step either way changes none of them.
 * `vi.setSystemTime` moves the faked `Date` only; `performance.now()` goes on as time really passes.
 */

const HOUR = 60 * 60 * 1000;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function connectedClient(heartbeat = 25_000): Promise<{ client: Client; t: ReturnType<typeof fakeTransport> }> {
  const up = await connectedOnFake(connected(heartbeat));
  expect(up.client.getSnapshot().state).toBe('connected');
  return up;
}

/** Acknowledge every publish the line has sent and not yet had acknowledged. */
function ackAll(t: ReturnType<typeof fakeTransport>, acked: Set<string>): void {
  for (const frame of t.last.sent) {
    if (frame.type !== 'publish' || acked.has(frame.id)) continue;
    acked.add(frame.id);
    t.last.push({ type: 'ack', id: (frame as PublishFrame).id, epoch: 'e1', offset: acked.size });
  }
}

describe('a wall-clock step changes no duration the client measures', () => {
  it.each([
    ['back an hour', -HOUR],
    ['forward an hour', HOUR],
  ])('set %s: a silent line is still found dead within its heartbeat deadline, not sooner', async (_, step) => {
    const heartbeat = 2000;
    const { client } = await connectedClient(heartbeat);
    vi.setSystemTime(Date.now() + step);
    // Half the heartbeat of silence: a forward step must not make it look like an hour of silence.
    await vi.advanceTimersByTimeAsync(heartbeat / 2);
    expect(client.getSnapshot().state).toBe('connected');
    // Then silence well past the deadline (2 heartbeats and a margin): a backward step must not hide it.
    await vi.advanceTimersByTimeAsync(3 * heartbeat + 3000);
    expect(client.getSnapshot().state).not.toBe('connected');
    client.close();
  });

  it('set back an hour: request pacing keeps refilling, so a long run of publishes all go out', async () => {
    const { client, t } = await connectedClient();
    vi.setSystemTime(Date.now() - HOUR);
    const settled: string[] = [];
    const count = 300; // beyond the pacer's burst: most of these wait for refills
    for (let i = 0; i < count; i++) void client.channel('room').publish({ i }).then(() => settled.push('ok'), (e: { code: string }) => settled.push(e.code));
    const acked = new Set<string>();
    for (let s = 0; s < 120 && settled.length < count; s++) {
      await vi.advanceTimersByTimeAsync(250);
      ackAll(t, acked);
    }
    expect(settled).toHaveLength(count);
    expect(new Set(settled)).toEqual(new Set(['ok']));
    client.close();
  });

  it('set forward past queueTimeout while offline: queued publishes are sent, not expired', async () => {
    const { client, t } = await connectedClient();
    t.last.drop({ message: 'network down' });
    const settled: string[] = [];
    for (let i = 0; i < 20; i++) void client.channel('room').publish({ i }).then(() => settled.push('ok'), (e: { code: string }) => settled.push(e.code));
    vi.setSystemTime(Date.now() + 10 * 60 * 1000); // beyond the default queueTimeout (5 min)
    await vi.advanceTimersByTimeAsync(2000);
    expect(settled).toEqual([]);
    // The line comes back (the reconnect is pending: open what the client opened, or wait for it).
    for (let s = 0; s < 40 && t.lines.length < 2; s++) await vi.advanceTimersByTimeAsync(250);
    t.last.open();
    t.last.push(connected());
    const acked = new Set<string>();
    for (let s = 0; s < 40 && settled.length < 20; s++) {
      await vi.advanceTimersByTimeAsync(100);
      ackAll(t, acked);
    }
    expect(settled).toEqual(Array.from({ length: 20 }, () => 'ok'));
    client.close();
  });
});

describe('fake timers that start before the SDK was loaded', () => {
  it('a client subscribes and publishes under fake timers pinned to an earlier date (readings never go to 0 or below)', async () => {
    vi.useRealTimers();
    vi.useFakeTimers({ now: new Date('2025-01-01T00:00:00Z') }); // `performance` is faked too, its origin at that date
    const t = fakeTransport();
    const { createClient } = await import('../src/client');
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    client.channel('room');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    await vi.advanceTimersByTimeAsync(1000);
    const subscribe = t.last.sent.find((f) => f.type === 'subscribe');
    expect(subscribe).toBeDefined();
    const published = client.publish('room', 1);
    await vi.advanceTimersByTimeAsync(0);
    const frame = t.last.sent.find((f): f is PublishFrame => f.type === 'publish')!;
    t.last.push({ type: 'ack', id: frame.id, epoch: 'e1', offset: 1 });
    await expect(published).resolves.toMatchObject({ offset: 1 });
    client.close();
  });
});
