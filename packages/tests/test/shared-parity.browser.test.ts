import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startTestPage } from './helpers/browser-page';
import type { TestPageServer } from './helpers/browser-page';

// A shared client behaves in each tab as a private one: presence, history, `recent` and the
// persisted outbox, through a SharedWorker and through a leader tab (`?mode=`).
const WORKER = `
import { serveSharedConnection } from '@tidewire/core/shared-worker';
import { indexedDbOutbox } from '@tidewire/core/idb';
serveSharedConnection({ url: '/tidewire', backoff: () => 200, outboxStorage: indexedDbOutbox() });
`;
const PAGE = `
import { createSharedClient } from '@tidewire/core/shared';
import type { SharedChannel } from '@tidewire/core/shared';
import { indexedDbOutbox } from '@tidewire/core/idb';
const mode = new URLSearchParams(location.search).get('mode') as 'worker' | 'leader';
const client = createSharedClient({
  url: '/tidewire',
  backoff: () => 200,
  mode,
  outboxStorage: indexedDbOutbox(),
  worker: () => new SharedWorker('/worker.js', { type: 'module', name: 'parity' }),
});
const channels = new Map<string, SharedChannel>();
const got = new Map<string, unknown[]>();
const open = (name: string, recent?: number) => {
  if (channels.has(name)) return channels.get(name)!;
  const channel = client.channel(name, recent === undefined ? {} : { recent });
  got.set(name, []);
  channel.on('message', (m) => void got.get(name)!.push(m.data));
  channels.set(name, channel);
  return channel;
};
const events: string[] = [];
Object.assign(window, {
  tw: {
    state: () => client.getSnapshot().state,
    mode: () => client.mode,
    open: (name: string, recent?: number) => void open(name, recent),
    got: (name: string) => got.get(name),
    channelState: (name: string) => channels.get(name)?.getSnapshot().state,
    watch: (name: string) => {
      const presence = open(name).presence;
      presence.on('join', (m) => void events.push('join ' + JSON.stringify(m.info)));
      presence.on('leave', (m) => void events.push('leave ' + JSON.stringify(m.info)));
      presence.subscribe(() => {});
    },
    events: () => events,
    members: (name: string) => {
      const { state, members } = open(name).presence.getSnapshot();
      return { state, infos: members.map((m) => m.info) };
    },
    enter: (name: string, info: unknown) => open(name).presence.enter(info),
    leave: (name: string) => open(name).presence.leave(),
    history: async (name: string, limit: number) => {
      const channel = client.channel(name); // a handle of its own, released after
      try {
        const page = await channel.history({ limit });
        const next = await page.next();
        return [page.messages.map((m) => m.data), page.hasMore, next ? next.messages.map((m) => m.data) : null];
      } finally {
        channel.unsubscribe();
      }
    },
    publish: (name: string, data: unknown) => void client.publish(name, data).catch(() => {}),
    pending: () => client.listPendingPublishes().map((p) => p.data),
  },
});
`;

interface PageApi {
  state(): string;
  mode(): string;
  open(name: string, recent?: number): void;
  got(name: string): unknown[] | undefined;
  channelState(name: string): string | undefined;
  watch(name: string): void;
  events(): string[];
  members(name: string): { state: string; infos: unknown[] };
  enter(name: string, info: unknown): Promise<void>;
  leave(name: string): void;
  history(name: string, limit: number): Promise<[unknown[], boolean, unknown[] | null]>;
  publish(name: string, data: unknown): void;
  pending(): unknown[];
}
declare const tw: PageApi;

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

async function openTab(context: BrowserContext, server: TestPageServer, mode: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => {
    throw new Error(`page error: ${e.message}`);
  });
  await page.goto(`${server.url}?mode=${mode}`);
  await page.waitForFunction(() => typeof (window as { tw?: unknown }).tw === 'object');
  return page; // idle until first use, as a private client
}

describe.each(['worker', 'leader'])('a shared client (%s) as a private one, in Chromium', (mode) => {
  let server: TestPageServer;
  beforeAll(async () => void (server = await startTestPage(PAGE, { history: { size: 1000, ttl: 60_000 } }, { '/worker.js': WORKER })), 60_000);
  afterAll(() => server?.close());

  it('presence: the members are the connection’s (one member for every tab), entered while any tab is; every tab sees joins and leaves', async () => {
    const context = await browser.newContext();
    const [a, b] = [await openTab(context, server, mode), await openTab(context, server, mode)];
    expect(await a.evaluate(() => tw.mode())).toBe(mode);
    await b.evaluate(() => tw.watch('room'));
    await expect.poll(() => b.evaluate(() => tw.members('room')), { timeout: 15_000 }).toEqual({ state: 'synced', infos: [] });

    await a.evaluate(() => tw.enter('room', { name: 'a' }));
    await expect.poll(() => b.evaluate(() => tw.members('room')), { timeout: 15_000 }).toEqual({ state: 'synced', infos: [{ name: 'a' }] });
    await b.evaluate(() => tw.enter('room', { name: 'b' })); // the same member, with the newest info
    await expect.poll(() => b.evaluate(() => tw.members('room')), { timeout: 15_000 }).toEqual({ state: 'synced', infos: [{ name: 'b' }] });
    await a.evaluate(() => tw.leave('room')); // b is still entered: still a member
    await b.evaluate(() => tw.watch('room'));
    await new Promise((r) => setTimeout(r, 300));
    expect(await b.evaluate(() => tw.members('room'))).toEqual({ state: 'synced', infos: [{ name: 'b' }] });
    await b.evaluate(() => tw.leave('room'));
    await expect.poll(() => b.evaluate(() => tw.members('room')), { timeout: 15_000 }).toEqual({ state: 'synced', infos: [] });
    const events = await b.evaluate(() => tw.events());
    expect(events[0]).toBe('join {"name":"a"}');
    expect(events.at(-1)).toBe('leave {"name":"b"}');
    await context.close();
  }, 90_000);

  it('history and recent: pages of stored messages, and `recent` messages before the live ones in each tab, no gap, no duplicate', async () => {
    for (let i = 1; i <= 5; i++) await server.tidewire.publish(`hist-${mode}`, i);
    const context = await browser.newContext();
    const [a, b] = [await openTab(context, server, mode), await openTab(context, server, mode)];
    expect(await a.evaluate((name) => tw.history(name, 3), `hist-${mode}`)).toEqual([[5, 4, 3], true, [2, 1]]);

    await a.evaluate((name) => tw.open(name, 3), `hist-${mode}`);
    await expect.poll(() => a.evaluate((name) => tw.got(name), `hist-${mode}`), { timeout: 15_000 }).toEqual([3, 4, 5]);
    await expect.poll(() => a.evaluate((name) => tw.channelState(name), `hist-${mode}`)).toBe('subscribed');
    await server.tidewire.publish(`hist-${mode}`, 6);
    await expect.poll(() => a.evaluate((name) => tw.got(name), `hist-${mode}`), { timeout: 15_000 }).toEqual([3, 4, 5, 6]);
    // A second tab joins the running subscription and still gets its own recent messages first.
    await b.evaluate((name) => tw.open(name, 2), `hist-${mode}`);
    await expect.poll(() => b.evaluate((name) => tw.got(name), `hist-${mode}`), { timeout: 15_000 }).toEqual([5, 6]);
    await expect.poll(() => b.evaluate((name) => tw.channelState(name), `hist-${mode}`)).toBe('subscribed');
    await server.tidewire.publish(`hist-${mode}`, 7);
    await expect.poll(() => b.evaluate((name) => tw.got(name), `hist-${mode}`), { timeout: 15_000 }).toEqual([5, 6, 7]);
    await expect.poll(() => a.evaluate((name) => tw.got(name), `hist-${mode}`), { timeout: 15_000 }).toEqual([3, 4, 5, 6, 7]);
    await context.close();
  }, 90_000);

  it('the outbox: a publish made offline is listed in every tab, survives closing every tab, and is stored exactly once', async () => {
    const stored: unknown[] = [];
    await server.tidewire.subscribe(`out-${mode}`, (m) => void stored.push(m.data));
    const context = await browser.newContext();
    const [a, b] = [await openTab(context, server, mode), await openTab(context, server, mode)];
    server.cut(true);
    await b.evaluate((name) => tw.publish(name, 'typed offline'), `out-${mode}`);
    await expect.poll(() => a.evaluate(() => tw.pending()), { timeout: 10_000 }).toEqual(['typed offline']);
    await expect.poll(() => b.evaluate(() => tw.pending()), { timeout: 10_000 }).toEqual(['typed offline']);
    await a.close();
    await b.close(); // every tab (and the worker with them) is gone; the publish is in IndexedDB
    const c = await context.newPage();
    await c.goto(`${server.url}?mode=${mode}`);
    await c.waitForFunction(() => typeof (window as { tw?: unknown }).tw === 'object');
    await expect.poll(() => c.evaluate(() => tw.pending()), { timeout: 10_000 }).toEqual(['typed offline']);
    expect(stored).toEqual([]);
    server.cut(false);
    await expect.poll(() => stored, { timeout: 20_000 }).toEqual(['typed offline']);
    await expect.poll(() => c.evaluate(() => tw.pending()), { timeout: 15_000 }).toEqual([]);
    await context.close();
  }, 90_000);
});
