import { describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import type { OutboxStorage, StoredPublish } from '../src/outbox-storage';
import { memoryOutbox } from '../src/outbox-storage';
import type { TidewireError } from '../src/errors';
import { fakeTransport, openAndSubscribe } from './fake-transport';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

function storedPublish(id: string, data: unknown, queuedAt = Date.now(), channel = 'room'): StoredPublish {
  return { id, channel, data, queuedAt, frame: JSON.stringify({ type: 'publish', id, channel, data }) };
}

function start(outboxStorage: OutboxStorage, options: Partial<ClientOptions> = {}) {
  const t = fakeTransport('websocket');
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], outboxStorage, backoff: () => 10, ...options });
  return { t, client };
}

/**
 * What the last run left in `outboxStorage` is this run's to send: the client closed meanwhile stays
 * closed, a restored publish keeps the queueTimeout it has left and `echo: false`, and one that fails
 * for good is reported on `client.on('error')` as it is deleted (docs/client.md, outboxStorage).
 */
describe('outbox restored from outboxStorage', () => {
  it('a client closed before the stored outbox was read stays closed (no line opened, nothing sent)', async () => {
    const map = new Map<string, StoredPublish>([['left-1', storedPublish('left-1', 'left by the last run')]]);
    const { t, client } = start(memoryOutbox(map));
    client.close(); // e.g. a React StrictMode effect cleanup, or an app shutting down at once
    await delay(50);
    expect(client.getSnapshot().state).toBe('closed');
    expect(t.lines).toHaveLength(0);
    expect(map.has('left-1')).toBe(true);
  });

  it('a restored publish keeps the queueTimeout it already spent (counted from queuedAt, not again from the restart)', async () => {
    // Published 800 ms ago by the last run with queueTimeout 1000: 200 ms left.
    const map = new Map<string, StoredPublish>([['old', storedPublish('old', 'typed offline', Date.now() - 800)]]);
    const { client } = start(memoryOutbox(map), { queueTimeout: 1000, lazy: false }); // never online
    await vi.waitFor(() => expect(client.listPendingPublishes()).toHaveLength(1));
    await delay(600); // 1400 ms after it was published
    expect(client.listPendingPublishes()).toEqual([]);
    client.close();
  });

  it('with echo: false, a restored publish of ours is not delivered back to our own listeners', async () => {
    const map = new Map<string, StoredPublish>([['mine', storedPublish('mine', 'typed before the reload')]]);
    const { t, client } = start(memoryOutbox(map), { echo: false });
    const room = client.channel('room');
    const seen: unknown[] = [];
    room.on('message', (m) => seen.push(m.data));
    const push = await openAndSubscribe(t);
    await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'publish')).toBe(true));
    t.last.push({ type: 'ack', id: 'mine', epoch: 'e', offset: 1 });
    push(1, 'typed before the reload', 'mine');
    push(2, 'from another client', 'someone-else');
    await delay(20);
    expect(seen).toEqual(['from another client']);
    client.close();
  });

  it('stored publishes beyond maxQueue are reported queue_full as they are deleted, not silently', async () => {
    const map = new Map<string, StoredPublish>();
    const now = Date.now();
    for (let i = 0; i < 5; i++) map.set(`p${i}`, storedPublish(`p${i}`, i, now - 10 + i));
    const errors: TidewireError[] = [];
    const { client } = start(memoryOutbox(map), { maxQueue: 3, lazy: false });
    client.on('error', (e) => errors.push(e));
    await vi.waitFor(() => expect(client.listPendingPublishes()).toHaveLength(3));
    await vi.waitFor(() => expect(map.size).toBe(3));
    expect(client.listPendingPublishes().map((p) => p.id)).toEqual(['p0', 'p1', 'p2']);
    expect(errors.map((e) => [e.code, e.context.id])).toEqual([
      ['queue_full', 'p3'],
      ['queue_full', 'p4'],
    ]);
    client.close();
  });

  it('a stored publish already older than queueTimeout is reported timeout as it is deleted', async () => {
    const map = new Map<string, StoredPublish>([['stale', storedPublish('stale', 'from yesterday', Date.now() - 60_000)]]);
    const errors: TidewireError[] = [];
    const { client } = start(memoryOutbox(map), { queueTimeout: 10_000, lazy: false });
    client.on('error', (e) => errors.push(e));
    await vi.waitFor(() => expect(map.size).toBe(0));
    expect(errors.map((e) => [e.code, e.context.id, e.context.channel])).toEqual([['timeout', 'stale', 'room']]);
    expect(client.listPendingPublishes()).toEqual([]);
    client.close();
  });

  it('a restored publish that then fails (here: queueTimeout while offline) is reported, not dropped without a word', async () => {
    const map = new Map<string, StoredPublish>([['gone', storedPublish('gone', 'typed offline')]]);
    const errors: TidewireError[] = [];
    const { client } = start(memoryOutbox(map), { queueTimeout: 200, lazy: false }); // never online
    client.on('error', (e) => errors.push(e));
    await vi.waitFor(() => expect(client.listPendingPublishes()).toHaveLength(1));
    await delay(400);
    expect(client.listPendingPublishes()).toEqual([]);
    expect(map.has('gone')).toBe(false); // given up for good...
    expect(errors.map((e) => e.code)).toContain('timeout'); // ...so the app must hear of it somewhere
    client.close();
  });

  it('a client closed before the read keeps the stored publishes and reports nothing once queueTimeout passes', async () => {
    const map = new Map<string, StoredPublish>([['left-1', storedPublish('left-1', 'left by the last run')]]);
    const errors: TidewireError[] = [];
    const { client } = start(memoryOutbox(map), { queueTimeout: 200 });
    client.on('error', (e) => errors.push(e));
    client.close();
    await delay(400);
    expect(client.getSnapshot().state).toBe('closed');
    expect(errors).toEqual([]);
    expect(map.has('left-1')).toBe(true);
  });
});
