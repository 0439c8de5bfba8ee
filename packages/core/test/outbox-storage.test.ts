import 'fake-indexeddb/auto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import { fileOutbox } from '../src/outbox-file';
import { indexedDbOutbox } from '../src/outbox-idb';
import type { OutboxStorage, StoredPublish } from '../src/outbox-storage';
import { memoryOutbox } from '../src/outbox-storage';
import type { PublishFrame } from '../src/protocol/frames';
import { connected, fakeTransport } from './fake-transport';

// The persisted outbox: publishes accepted offline survive the client (a reload, a crash) in the
// storage and are sent by the next client first, with their ids. The test plays the server.

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

function start(outboxStorage: OutboxStorage, options: Partial<ClientOptions> = {}) {
  const t = fakeTransport('websocket');
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], outboxStorage, backoff: () => 10, ...options });
  const online = async () => {
    await vi.waitFor(() => expect(t.lines.length).toBeGreaterThan(0));
    t.last.open();
    t.last.push(connected());
  };
  const published = () => t.lines.flatMap((l) => l.sent).filter((f): f is PublishFrame => f.type === 'publish');
  return { t, client, online, published };
}

const stored = async (storage: OutboxStorage) => (await storage.list()).map((e) => e.data);

const storages: [string, () => Promise<OutboxStorage>][] = [
  ['memory', async () => memoryOutbox()],
  ['IndexedDB (fake-indexeddb)', async () => indexedDbOutbox(`test-${Math.random()}`)],
  [
    'file',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'tw-outbox-'));
      dirs.push(dir);
      return fileOutbox(join(dir, 'sub', 'outbox.json'));
    },
  ],
];

describe.each(storages)('persisted outbox in %s storage', (_name, makeStorage) => {
  it('a publish accepted offline outlives its client and is sent first, with its id, by the next one; acked ones leave storage', async () => {
    const storage = await makeStorage();
    const first = start(storage);
    const lost = first.client.publish('room', 'typed offline');
    lost.catch(() => {}); // rejected with `closed` below: the page went away
    await vi.waitFor(async () => expect(await stored(storage)).toEqual(['typed offline']));
    expect(first.client.listPendingPublishes()).toMatchObject([{ channel: 'room', data: 'typed offline' }]);
    const { id, queuedAt } = first.client.listPendingPublishes()[0]!;
    expect(queuedAt).toBeGreaterThan(0);
    first.client.close(); // the reload
    await expect(lost).rejects.toMatchObject({ code: 'closed' });
    expect(await stored(storage)).toEqual(['typed offline']); // closing is not giving up

    const second = start(storage);
    const fresh = second.client.publish('room', 'typed after the reload');
    await vi.waitFor(() => expect(second.client.listPendingPublishes().map((p) => p.data)).toEqual(['typed offline', 'typed after the reload']));
    expect(second.client.listPendingPublishes()[0]).toMatchObject({ id, queuedAt });
    await second.online();
    await vi.waitFor(() => expect(second.published()).toHaveLength(2));
    const [resent, next] = second.published();
    expect(resent).toMatchObject({ id, channel: 'room', data: 'typed offline' });
    expect(next!.data).toBe('typed after the reload');
    second.t.last.push({ type: 'ack', id: resent!.id, epoch: 'e', offset: 1 });
    second.t.last.push({ type: 'ack', id: next!.id, epoch: 'e', offset: 2 });
    await expect(fresh).resolves.toMatchObject({ offset: 2 });
    await vi.waitFor(async () => expect(await storage.list()).toEqual([]));
    expect(second.client.listPendingPublishes()).toEqual([]);
    second.client.close();
  });

  it('300 publishes made in one burst (one millisecond) come back in publish order, whatever order the storage lists them in', async () => {
    const storage = await makeStorage();
    const shuffled: OutboxStorage = { ...storage, list: async () => (await storage.list()).reverse() }; // keyed by random ids: any order
    const first = start(shuffled);
    const burst = Array.from({ length: 300 }, (_, i) => first.client.publish('room', i));
    for (const p of burst) p.catch(() => {}); // closed below
    await vi.waitFor(async () => expect(await storage.list()).toHaveLength(300));
    first.client.close();
    const second = start(shuffled);
    await second.online();
    await vi.waitFor(() => expect(second.published()).toHaveLength(300), { timeout: 10_000 }); // paced: 150 at once, then 90/s
    expect(second.published().map((f) => f.data)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('cancelPublish rejects a queued publish with aborted, removes it from storage, and it is never sent', async () => {
    const storage = await makeStorage();
    const { client, online, published } = start(storage);
    const keep = client.publish('room', 'keep');
    const drop = client.publish('room', 'drop');
    // Listed once the storage was read (new publishes wait behind what the last run left).
    await vi.waitFor(() => expect(client.listPendingPublishes()).toHaveLength(2));
    const [, dropped] = client.listPendingPublishes();
    expect(client.cancelPublish(dropped!.id)).toBe(true);
    expect(client.cancelPublish('no-such-id')).toBe(false);
    await expect(drop).rejects.toMatchObject({ code: 'aborted', context: { cancelled: true } });
    await vi.waitFor(async () => expect(await stored(storage)).toEqual(['keep']));
    await online();
    await vi.waitFor(() => expect(published().map((f) => f.data)).toEqual(['keep']));
    keep.catch(() => {});
    client.close();
  });
});

describe('persisted outbox: what leaves storage', () => {
  it('a publish refused by the server or timed out is deleted; one closed is kept', async () => {
    const storage = memoryOutbox();
    const { t, client, online, published } = start(storage, { publishTimeout: 200 });
    const refused = client.publish('room', 'refused');
    const timedOut = client.publish('room', 'times out');
    await online();
    await vi.waitFor(() => expect(published()).toHaveLength(2));
    t.last.push({ type: 'error', id: published()[0]!.id, code: 'forbidden', message: 'no' });
    await expect(refused).rejects.toMatchObject({ code: 'forbidden' });
    await expect(timedOut).rejects.toMatchObject({ code: 'timeout' });
    await vi.waitFor(async () => expect(await storage.list()).toEqual([]));
    const kept = client.publish('room', 'kept');
    kept.catch(() => {});
    client.close();
    await vi.waitFor(async () => expect(await stored(storage)).toEqual(['kept']));
  });

  it('what waited longer than queueTimeout before the restart is dropped, not sent', async () => {
    const map = new Map<string, StoredPublish>();
    const old: StoredPublish = { id: 'old', channel: 'room', data: 'stale', queuedAt: Date.now() - 60_000, frame: '{"type":"publish","id":"old","channel":"room","data":"stale"}' };
    const recent: StoredPublish = { ...old, id: 'recent', data: 'recent', queuedAt: Date.now() - 1000, frame: '{"type":"publish","id":"recent","channel":"room","data":"recent"}' };
    map.set(old.id, old).set(recent.id, recent);
    const { client, online, published } = start(memoryOutbox(map), { queueTimeout: 30_000 });
    await online(); // the restored publish connects a lazy client by itself
    await vi.waitFor(() => expect(published().map((f) => f.id)).toEqual(['recent']));
    expect([...map.keys()]).toEqual(['recent']);
    client.close();
  });

  it('a failing storage is reported on `error` and publishing goes on', async () => {
    const broken: OutboxStorage = {
      get: async () => undefined,
      set: async () => Promise.reject(new Error('quota exceeded')),
      delete: async () => {},
      list: async () => Promise.reject(new Error('unreadable')),
    };
    const { t, client, online, published } = start(broken);
    const errors: string[] = [];
    client.on('error', (e) => errors.push(e.message));
    const result = client.publish('room', 'still goes');
    await online();
    await vi.waitFor(() => expect(published()).toHaveLength(1));
    t.last.push({ type: 'ack', id: published()[0]!.id, epoch: 'e', offset: 1 });
    await expect(result).resolves.toMatchObject({ offset: 1 });
    expect(errors.some((m) => m.includes('unreadable'))).toBe(true);
    expect(errors.some((m) => m.includes('quota exceeded'))).toBe(true);
    client.close();
  });

  it('the file storage writes a complete JSON file another process can read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tw-outbox-'));
    dirs.push(dir);
    const path = join(dir, 'outbox.json');
    const { client } = start(fileOutbox(path));
    client.publish('room', { text: 'hi' }).catch(() => {});
    await vi.waitFor(async () => expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject([{ channel: 'room', data: { text: 'hi' } }]));
    client.close();
    expect(await fileOutbox(path).list()).toMatchObject([{ channel: 'room', data: { text: 'hi' } }]);
  });
});
