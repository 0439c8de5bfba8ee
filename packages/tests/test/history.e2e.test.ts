import { describe, expect, it } from 'vitest';
import { type ChannelMessage, type HistoryPage, type TransportFactory } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';
import { allTransports } from './helpers/transports';

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

const start = (transport: () => TransportFactory, options: ServerOptions = {}) =>
  startServer(withTestBroker({ logger: { warn: () => {}, error: () => {} }, ...options }), { transports: [transport()] });

const transports = allTransports;

const offsets = (page: HistoryPage) => page.messages.map((m) => m.offset);

/** Every page from `first` on, following `next()`. */
async function allPages(first: HistoryPage): Promise<HistoryPage[]> {
  const pages = [first];
  let next: Promise<HistoryPage> | undefined;
  while ((next = pages.at(-1)!.next())) pages.push(await next);
  return pages;
}

describe.each(transports)('history over %s against the real server', (_name, transport) => {
  it('pages newest first and oldest first, to both ends of the stored window, with positions', async () => {
    // 30 published, 20 kept: the window is offsets 11..30.
    await using t = await start(transport, { history: { size: 20 } });
    for (let i = 1; i <= 30; i++) await t.server.publish('log', { n: i });
    const log = t.client().channel('log'); // asked before the subscription is even confirmed

    const newest = await log.history({ limit: 8 });
    expect(offsets(newest)).toEqual([30, 29, 28, 27, 26, 25, 24, 23]);
    expect(newest).toMatchObject({ head: 30, hasMore: true });
    expect(newest.messages[0]).toMatchObject({ channel: 'log', epoch: newest.epoch, offset: 30, data: { n: 30 }, id: expect.any(String) });
    const backward = await allPages(newest);
    expect(backward.flatMap(offsets)).toEqual(Array.from({ length: 20 }, (_, i) => 30 - i)); // down to the oldest kept
    expect(backward.at(-1)!.hasMore).toBe(false);
    expect(backward.at(-1)!.next()).toBeUndefined();

    const oldest = await log.history({ limit: 8, direction: 'forward' });
    expect(offsets(oldest)).toEqual([11, 12, 13, 14, 15, 16, 17, 18]);
    const forward = await allPages(oldest);
    expect(forward.flatMap(offsets)).toEqual(Array.from({ length: 20 }, (_, i) => 11 + i)); // up to the head

    // Bounds are exclusive, at both ends of the window.
    expect(offsets(await log.history({ before: 12 }))).toEqual([11]);
    expect(await log.history({ before: 11 })).toMatchObject({ messages: [], hasMore: false });
    expect(offsets(await log.history({ after: 29, direction: 'forward' }))).toEqual([30]);
    expect(await log.history({ after: 30, direction: 'forward' })).toMatchObject({ messages: [], hasMore: false });
    expect(offsets(await log.history({ after: 14, before: 18 }))).toEqual([17, 16, 15]);
  });

  it('reads an empty channel, and is refused like a subscribe', async () => {
    await using t = await start(transport, { authorize: ({ channel, action }) => !(channel.startsWith('secret:') && action === 'subscribe') });
    const client = t.client();
    expect(await client.channel('empty').history()).toMatchObject({ messages: [], head: 0, hasMore: false });
    await expect(client.channel('secret:1').history()).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('starts with the last N messages, then live: nothing missing, nothing twice', async () => {
    await using t = await start(transport);
    for (let i = 1; i <= 25; i++) await t.server.publish('room', i);
    const got: number[] = [];
    const room = t.client().channel('room', { recent: 10 });
    room.on('message', (m: ChannelMessage) => got.push(m.offset));
    await until(() => got.length === 10, 'the recent ten');
    expect(got).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    for (let i = 26; i <= 28; i++) await t.server.publish('room', i);
    await until(() => got.length === 13, 'then live');
    expect(got.slice(10)).toEqual([26, 27, 28]);

    // More asked for than stored: everything stored.
    await t.server.publish('short', 'a');
    await t.server.publish('short', 'b');
    const short: unknown[] = [];
    t.client().channel('short', { recent: 100 }).on('message', (m) => short.push(m.data));
    await until(() => short.length === 2, 'both');
    expect(short).toEqual(['a', 'b']);
  });

  it('joins the recent past and the live stream without a gap or a duplicate while messages are being published', async () => {
    await using t = await start(transport);
    let published = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing || published < 60) {
        await t.server.publish('busy', ++published);
        await new Promise((resolve) => setImmediate(resolve)); // the memory broker never yields by itself: let the line run
      }
    })();
    await until(() => published >= 20, 'some history first');
    const before = published;
    const got: number[] = [];
    const values: unknown[] = [];
    const busy = t.client().channel('busy', { recent: 15 });
    busy.on('message', (m: ChannelMessage) => {
      got.push(m.offset);
      values.push(m.data);
    });
    await until(() => got.length >= 30, 'recent and live');
    publishing = false;
    await publisher;
    await until(() => got.at(-1) === published, 'everything up to the last publish');
    expect(got[0]).toBeGreaterThanOrEqual(before - 14); // the recent past starts at most 15 before the head
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => got[0]! + i)); // consecutive: no gap, no duplicate
    expect(values).toEqual(got); // the data is the message published at that offset
  });
});
