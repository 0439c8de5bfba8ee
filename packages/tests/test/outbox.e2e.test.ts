import { describe, expect, it } from 'vitest';
import type { ChannelMessage, StateChange, TidewireError } from '@tidewire/core';
import { startFaultProxy } from './helpers/fault-proxy';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/** Issue 9 kinds 6 and 8: the outbox outlasts outages, retries with an id store once, refused frames are never resent. */
const start = startQuietServer;

const transports = allTransports;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(transports)('the outbox against the real server over %s', (_name, transport) => {
  it('sends a publish made while offline for longer than publishTimeout when the line returns, and stores it once', async () => {
    await using t = await start(transport);
    await using proxy = await startFaultProxy(t.port);
    // publishTimeout bounds only the wait for an ack; the offline wait has its own (long) limit.
    const client = t.client({ url: proxy.url(), publishTimeout: 300 });
    const watcher = t.client();
    const seen: unknown[] = [];
    const room = client.channel('tunnel');
    const watched = watcher.channel('tunnel');
    watched.on('message', (m: ChannelMessage) => seen.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed' && watched.getSnapshot().state === 'subscribed', 'both subscribed');
    for (const kind of ['websocket', 'sse', 'http'] as const) proxy.set(kind, 'refuse'); // into the tunnel
    t.cutAll();
    client.disconnectTransport('test: into the tunnel');
    let settled = false;
    const ack = room.publish('typed in the tunnel').finally(() => (settled = true));
    await delay(1200); // offline for four times publishTimeout, reconnect attempts refused all along
    expect(settled).toBe(false);
    expect(client.getSnapshot().state).not.toBe('connected');
    for (const kind of ['websocket', 'sse', 'http'] as const) proxy.set(kind, 'pass'); // out of the tunnel
    await expect(ack).resolves.toMatchObject({ offset: 1 });
    await until(() => seen.length >= 1, 'the watcher sees it');
    await delay(100);
    expect(seen).toEqual(['typed in the tunnel']);
    client.close(); // before the proxy is disposed: its piped WebSocket would hold its close open
  });

  it('refuses an id still pending for another channel (bad_request), never acking one publish with the other\'s position', async () => {
    await using t = await start(transport);
    const client = t.client();
    const watcher = t.client();
    const seen: string[] = [];
    for (const name of ['orders-a', 'orders-b']) watcher.channel(name).on('message', (m: ChannelMessage) => seen.push(`${name} ${String(m.data)}`));
    await until(() => watcher.getSnapshot().state === 'connected', 'watcher connected');
    await until(() => ['orders-a', 'orders-b'].every((n) => watcher.channel(n).getSnapshot().state === 'subscribed'), 'watcher subscribed');
    // Same tick: the first is still pending when the second comes.
    const a = client.publish('orders-a', 'x', { id: 'order-17' });
    const b = client.publish('orders-b', 'y', { id: 'order-17' }).catch((e: TidewireError) => e);
    await expect(a).resolves.toMatchObject({ id: 'order-17', offset: 1 });
    expect(await b).toMatchObject({ code: 'bad_request', context: { id: 'order-17' } });
    // Once the first is acknowledged the id is free again: the server stores per channel.
    await expect(client.publish('orders-b', 'y', { id: 'order-17' })).resolves.toMatchObject({ id: 'order-17', offset: 1 });
    await until(() => seen.length >= 2, 'both delivered');
    await delay(100);
    expect(seen.sort()).toEqual(['orders-a x', 'orders-b y']);
  });

  it('stores a publish retried with the same id once, and acks the retry with the first position', async () => {
    await using t = await start(transport);
    const client = t.client();
    const watcher = t.client();
    const seen: string[] = [];
    const watched = watcher.channel('orders');
    watched.on('message', (m: ChannelMessage) => seen.push(m.id));
    await until(() => watched.getSnapshot().state === 'subscribed', 'watcher subscribed');
    const first = await client.publish('orders', { n: 42 }, { id: 'order-42' });
    const retry = await client.channel('orders').publish({ n: 42 }, { id: 'order-42' });
    const other = await client.publish('orders', { n: 43 }, { id: 'order-43' });
    expect(retry).toEqual(first);
    expect(other.offset).toBe(first.offset + 1);
    await until(() => seen.length >= 2, 'the watcher sees both orders');
    await delay(100);
    expect(seen).toEqual(['order-42', 'order-43']);
    for (const id of ['', 'x'.repeat(65)]) {
      await expect(client.publish('orders', 1, { id })).rejects.toMatchObject({ code: 'bad_request' });
    }
  });

  it('rejects a queued publish too_large as soon as `connected` announces a smaller maxPayload, and sends the others', async () => {
    await using t = await start(transport, { limits: { maxPayload: 8 * 1024 } });
    const client = t.client({ lazy: false });
    const states: StateChange[] = [];
    client.on('state', (change) => states.push(change));
    const before = client.publish('big', { note: 'small, before' });
    const big = client.publish('big', 'x'.repeat(40 * 1024)).catch((e: TidewireError) => e);
    const after = client.publish('big', { note: 'small, after' });
    client.connect();
    expect(await big).toMatchObject({ code: 'too_large' });
    const acks = await Promise.all([before, after]);
    expect(acks.map((a) => a.offset)).toEqual([1, 2]);
    await delay(200);
    expect(states.map((s) => s.to.state)).toEqual(['connecting', 'connected']); // the line was never closed
    expect(client.pendingPublishes).toBe(0);
  });
});
