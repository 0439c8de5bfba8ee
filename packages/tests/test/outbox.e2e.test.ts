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
