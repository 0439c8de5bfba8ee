import { describe, expect, it } from 'vitest';
import { createClient, websocket } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { injectedWebSocket } from './helpers/env';
import { startFaultProxy } from './helpers/fault-proxy';
import { startServer, until } from './helpers/servers';

/**
 * App code that runs while the client switches lines (a lossless upgrade back to WebSocket keeps
 * the state `connected` throughout): a channel's state listener that publishes while the channel
 * waits to be resubscribed. Its publish waits for the new line like the rest, behind what was in
 * flight on the old one, so the server stores the client's publishes in the order they were made.
 * Real server, real transports, through a proxy that refuses WebSocket until the network heals.
 */
describe.each([
  ['sse', ['websocket'] as const],
  ['longpoll', ['websocket', 'sse'] as const],
])('upgrading from %s to WebSocket with publishes in flight and one made by a state listener', (fallback, blocked) => {
  it('the server stores every publish once, in the order the app made them', async () => {
    await using t = await startServer({ history: { size: 10_000, ttl: 60_000 } });
    await using proxy = await startFaultProxy(t.port);
    for (const kind of blocked) proxy.set(kind, 'refuse');
    const stored: string[] = [];
    await t.server.subscribe('log', (m) => void stored.push(m.data as string));
    const client = createClient({
      url: proxy.url(),
      WebSocket: injectedWebSocket,
      transports: [websocket(), sse(), longpoll()],
      upgradeDelay: 200,
      raceAfter: false,
      backoff: () => 50,
      transportMemory: { get: () => undefined, set() {} },
    });
    const made: string[] = [];
    const publish = (value: string) => {
      made.push(value);
      return client.publish('log', value);
    };
    const room = client.channel('room');
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed on the fallback');
    expect(client.getSnapshot()).toMatchObject({ transport: fallback });
    // While the client lets go of the old line, the channel waits to be resubscribed: the listener publishes then.
    room.subscribe(() => {
      const { state, transport } = client.getSnapshot();
      if (room.getSnapshot().state !== 'subscribed' && state === 'connected' && transport !== 'websocket') void publish(`listener ${made.length}`);
    });

    const acks: Promise<unknown>[] = [];
    for (let i = 0; client.getSnapshot().transport !== 'websocket'; i++) {
      acks.push(publish(`loop ${i}`));
      if (i === 20) for (const kind of blocked) proxy.set(kind, 'pass'); // the network heals: the probe upgrades
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, 5)); // a steady stream, some always in flight
      if (i > 20_000) throw new Error('no upgrade');
    }
    for (let i = 0; i < 20; i++) acks.push(publish(`after ${i}`));
    await Promise.all(acks);
    await until(() => stored.length >= made.length, `all ${made.length} stored (have ${stored.length})`, 20_000);
    expect(made.some((v) => v.startsWith('listener'))).toBe(true);
    expect(client.getSnapshot()).toMatchObject({ transport: 'websocket', transportReason: 'upgraded' });
    expect(stored).toEqual(made);
    client.close();
  });
});
