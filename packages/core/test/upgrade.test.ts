import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { rpc } from '../src/rpc';
import type { SubscribeFrame } from '../src/protocol/frames';
import type { TransportMemory } from '../src/transport-memory';
import { connected, fakeTransport } from './fake-transport';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const freshMemory = (): TransportMemory & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, get: (u) => map.get(u), set: (u, t) => void map.set(u, t) };
};

async function onFallback(features: string[] = []) {
  const ws = fakeTransport('websocket');
  const sse = fakeTransport('sse');
  const memory = freshMemory();
  const client = createClient({
    url: 'ws://x/tw',
    transports: [ws.factory, sse.factory],
    transportMemory: memory,
    upgradeDelay: 1000,
    connectTimeout: 500,
    backoff: () => 10,
  });
  const ch = client.channel('room');
  const got: number[] = [];
  ch.on('message', (m) => got.push(m.data as number));
  await vi.advanceTimersByTimeAsync(0);
  ws.last.drop(); // WebSocket refused
  await vi.advanceTimersByTimeAsync(0);
  sse.last.open();
  sse.last.push({ ...connected(), features } as never);
  const sub = sse.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
  sse.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
  for (let o = 1; o <= 3; o++) sse.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: o, id: `${o}`, data: o });
  return { ws, sse, memory, client, ch, got };
}

describe('upgrade back to the preferred transport', () => {
  it('probes WebSocket in the background and switches without losing or repeating a message', async () => {
    const { ws, sse, memory, client, got } = await onFallback();
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'sse', transportReason: 'fallback' });
    expect(memory.map.get('ws://x/tw')).toBe('sse');
    const pending = client.publish('room', 'in flight');
    const changes: string[] = [];
    client.on('state', ({ from, to }) => changes.push(`${from.state}/${from.transport}→${to.state}/${to.transport}`));

    await vi.advanceTimersByTimeAsync(1000);
    const probe = ws.last;
    probe.open();
    expect(probe.sent[0]).toMatchObject({ type: 'connect' });
    probe.push(connected());
    await vi.advanceTimersByTimeAsync(0);

    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'websocket', transportReason: 'upgraded' });
    expect(changes).toEqual(['connected/sse→connected/websocket']);
    expect(sse.last.closedByClient).toBe(true);
    expect(memory.map.get('ws://x/tw')).toBe('websocket');

    const resub = probe.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    expect(resub.since).toEqual({ epoch: 'e', offset: 3 });
    const republished = probe.sent.find((f) => f.type === 'publish') as { id: string };
    const original = sse.last.sent.find((f) => f.type === 'publish') as { id: string };
    expect(republished.id).toBe(original.id);

    // Late frames on the old line are ignored; the new line replays from offset 3.
    sse.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: 4, id: '4', data: 4 });
    probe.push({ type: 'subscribed', id: resub.id, channel: 'room', epoch: 'e', offset: 3, recovered: true });
    for (let o = 4; o <= 5; o++) probe.push({ type: 'message', channel: 'room', epoch: 'e', offset: o, id: `${o}`, data: o });
    probe.push({ type: 'ack', id: republished.id, epoch: 'e', offset: 6 });
    await expect(pending).resolves.toMatchObject({ offset: 6 });
    expect(got).toEqual([1, 2, 3, 4, 5]);
    client.close();
  });

  it('a probe that opens but never speaks fails quietly and the next one waits twice as long', async () => {
    const { ws, client } = await onFallback();
    const lines = () => ws.lines.length;
    const before = lines();
    await vi.advanceTimersByTimeAsync(1000);
    expect(lines()).toBe(before + 1);
    ws.last.open(); // black hole: never answers
    await vi.advanceTimersByTimeAsync(500);
    expect(ws.last.closedByClient).toBe(true);
    expect(client.getSnapshot()).toMatchObject({ state: 'connected', transport: 'sse' });
    await vi.advanceTimersByTimeAsync(1999);
    expect(lines()).toBe(before + 1);
    await vi.advanceTimersByTimeAsync(1);
    expect(lines()).toBe(before + 2);
    client.close();
    expect(ws.last.closedByClient).toBe(true); // close() cancels a probe in flight
  });

  it('starts on the remembered transport next time', async () => {
    const ws = fakeTransport('websocket');
    const sse = fakeTransport('sse');
    const memory = freshMemory();
    memory.map.set('ws://x/tw', 'sse');
    const client = createClient({ url: 'ws://x/tw', transports: [ws.factory, sse.factory], transportMemory: memory });
    client.connect();
    expect(client.getSnapshot()).toMatchObject({ state: 'connecting', transport: 'sse', transportReason: 'remembered' });
    client.close();
  });
});

describe('app code that runs while the client switches lines', () => {
  // A channel state listener runs while the client lets go of the old line (the channel waits to be
  // resubscribed): what it asks for is sent on the new line after what was in flight, once.
  it('a publish made there does not overtake the publishes in flight; a channel, an rpc, a history read made there are sent once', async () => {
    const { ws, sse, client, ch } = await onFallback();
    const first = client.publish('room', 'first');
    await vi.advanceTimersByTimeAsync(0);
    expect(sse.last.sent.filter((f) => f.type === 'publish')).toHaveLength(1);
    let made: { second: Promise<unknown>; call: Promise<unknown>; read: Promise<unknown> } | undefined;
    ch.subscribe(() => {
      if (ch.getSnapshot().state !== 'subscribed' && !made) {
        made = { second: client.publish('room', 'second'), call: rpc(client, 'charge', 1), read: ch.history({ limit: 1 }) };
        client.channel('other');
      }
    });
    await vi.advanceTimersByTimeAsync(1000);
    const probe = ws.last;
    probe.open();
    probe.push({ ...connected(), features: ['rpc', 'history'] } as never);
    await vi.advanceTimersByTimeAsync(0);
    expect(made).toBeDefined();
    const published = probe.sent.filter((f) => f.type === 'publish').map((f) => (f as { data: unknown }).data);
    expect(published).toEqual(['first', 'second']);
    expect(probe.sent.filter((f) => f.type === 'subscribe' && f.channel === 'other')).toHaveLength(1);
    const calls = probe.sent.filter((f) => f.type === 'rpc') as { id: string }[];
    const reads = probe.sent.filter((f) => f.type === 'history') as { id: string }[];
    expect([calls.length, reads.length]).toEqual([1, 1]);
    for (const [i, f] of probe.sent.filter((x) => x.type === 'publish').entries()) probe.push({ type: 'ack', id: (f as { id: string }).id, epoch: 'e', offset: 4 + i });
    probe.push({ type: 'result', id: calls[0]!.id, data: 'ok' } as never);
    probe.push({ type: 'history_page', id: reads[0]!.id, channel: 'room', epoch: 'e', head: 5, messages: [], more: false } as never);
    await expect(first).resolves.toMatchObject({ offset: 4 });
    await expect(made!.second).resolves.toMatchObject({ offset: 5 });
    await expect(made!.call).resolves.toBe('ok');
    await expect(made!.read).resolves.toMatchObject({ epoch: 'e' });
    client.close();
  });
});

describe('an upgrade while an rpc is on the wire', () => {
  // An rpc is at most once: on a line the client lets go it would reject `interrupted` (its answer lost).
  it('waits: no probe while it is, and a probe that succeeds meanwhile is closed; once answered, it upgrades', async () => {
    const { ws, sse, client } = await onFallback(['rpc']);
    /** Advance in small steps until the next probe opens (its deadline is the 500 ms connectTimeout). */
    const probeOpened = async (count: number) => {
      for (let i = 0; i < 30 && ws.lines.length < count; i++) await vi.advanceTimersByTimeAsync(100);
      expect(ws.lines.length).toBe(count);
    };
    const probesBefore = ws.lines.length;
    const first = rpc(client, 'charge', 1);
    await vi.advanceTimersByTimeAsync(0);
    const sent = sse.last.sent.find((f) => f.type === 'rpc') as { id: string };
    await vi.advanceTimersByTimeAsync(3000); // past upgradeDelay, several retries
    expect(ws.lines.length).toBe(probesBefore); // no probe while the rpc is on the wire
    sse.last.push({ type: 'result', id: sent.id, data: 'ok' } as never);
    await expect(first).resolves.toBe('ok');

    await probeOpened(probesBefore + 1);
    const probe = ws.last;
    probe.open();
    const second = rpc(client, 'charge', 2); // on the fallback's wire when the probe succeeds
    await vi.advanceTimersByTimeAsync(0);
    const sent2 = sse.last.sent.filter((f) => f.type === 'rpc').at(-1) as { id: string };
    probe.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    expect(probe.closedByClient).toBe(true);
    expect(client.getSnapshot().transport).toBe('sse');
    sse.last.push({ type: 'result', id: sent2.id, data: 'ok again' } as never);
    await expect(second).resolves.toBe('ok again');

    // The closed probe counts as a failed one: the next waits twice upgradeDelay, not half a second
    // (steady rpc traffic must not open and authenticate a session every 500 ms).
    await vi.advanceTimersByTimeAsync(1500);
    expect(ws.lines.length).toBe(probesBefore + 1);
    await probeOpened(probesBefore + 2);
    ws.last.open();
    ws.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    expect(client.getSnapshot()).toMatchObject({ transport: 'websocket', transportReason: 'upgraded' });
    client.close();
  });
});
