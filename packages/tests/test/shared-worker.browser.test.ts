import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublishRefusal, RpcError } from '@tidewire/server';
import { launchChromium, startTestPage } from './helpers/browser-page';
import { openTabs, warmUp } from './helpers/shared-tabs';
import type { TestPageServer } from './helpers/browser-page';

// The shared connection in a SharedWorker (Chromium has it): pages of one browser context reach
// one worker, as tabs of one profile do. `?transport=` picks the transport (the worker script's
// own query names it too, so each transport gets its own worker); `?worker=/silent.js` points the
// pages at a worker that never answers, to see them fall back to a leader tab.
const TRANSPORTS = `
import type { TransportFactory } from '@tidewire/core';
import { websocket } from '@tidewire/core/websocket';
import { sse } from '@tidewire/core/sse';
import { longpoll } from '@tidewire/core/longpoll';
export const transportsFor = (query: string): TransportFactory[] => {
  const name = new URLSearchParams(query).get('transport') ?? 'websocket';
  return [name === 'sse' ? sse() : name === 'longpoll' ? longpoll() : websocket()];
};
`;
const WORKER = `
import { serveSharedConnection } from '@tidewire/core/shared-worker';
${TRANSPORTS}
serveSharedConnection({ url: '/tidewire', backoff: () => 200, transports: transportsFor(location.search) });
`;
const PAGE = `
import { RequestError } from '@tidewire/core';
import { createSharedClient } from '@tidewire/core/shared';
import { RpcError, rpc } from '@tidewire/core/rpc';
${TRANSPORTS}
const query = new URLSearchParams(location.search);
const transport = query.get('transport') ?? 'websocket';
const client = createSharedClient({
  url: '/tidewire',
  backoff: () => 200,
  transports: transportsFor(location.search),
  workerTimeout: 1500,
  worker: () => new SharedWorker((query.get('worker') ?? '/worker.js') + '?transport=' + transport, { type: 'module', name: 'tidewire-' + transport }),
});
const got: number[] = [];
client.channel<number>('stream').on('message', (m) => void got.push(m.data));
const errors: unknown[] = [];
client.on('error', (e) => void errors.push([e instanceof RequestError, e.code, e.message, e.context.id, e.context.retryAfter]));
Object.assign(window, {
  tw: {
    got: () => got,
    mode: () => client.mode,
    isLeader: () => client.isLeader,
    state: () => client.getSnapshot().state,
    transport: () => client.getSnapshot().transport,
    publish: (data: number) => client.publish('stream', data).then((r) => r.offset),
    rpc: (a: number, b: number) => rpc(client, 'sum', { a, b }),
    refused: () => rpc(client, 'withdraw').catch((e: RpcError) => [e instanceof RpcError, e.code, e.appCode, e.message]),
    publishLimited: () => client.publish('limited', 1).then((r) => r.id),
    errors: () => errors,
  },
});
`;

interface PageApi {
  got(): number[];
  mode(): string;
  isLeader(): boolean;
  state(): string;
  transport(): string | undefined;
  publish(data: number): Promise<number>;
  rpc(a: number, b: number): Promise<unknown>;
  refused(): Promise<unknown>;
  /** Publish on 'limited' (the server refuses its first publish `rate_limited`); @returns the publish's id once stored. */
  publishLimited(): Promise<string>;
  /** Every `error` event of the page's client: [instanceof RequestError, code, message, context.id, context.retryAfter]. */
  errors(): unknown[];
}
declare const tw: PageApi;

/** A page server of its own per suite: a long-poll session outlives its page for a while, and the suites count sessions. */
const serve = () => {
  let refusals = 1;
  return startTestPage(
    PAGE,
    {
      history: { size: 10_000, ttl: 60_000 },
      onPublish: ({ channel }) => {
        if (channel === 'limited' && refusals-- > 0) throw new PublishRefusal('slow down', 'rate_limited', { retryAfter: 100 });
      },
      rpc: {
        sum: ({ data }) => (data as { a: number; b: number }).a + (data as { a: number; b: number }).b,
        withdraw: () => {
          throw new RpcError('insufficient_funds', 'balance is 3');
        },
      },
    },
    { '/worker.js': WORKER, '/silent.js': 'export {};' },
  );
};

/** A publish the server refuses `rate_limited` once: every page hears the same RequestError on `on('error')` (as a private client's app would). */
async function expectRateLimitedHeardBy(pages: Page[], publisher: Page): Promise<void> {
  const id = await publisher.evaluate(() => tw.publishLimited());
  for (const page of pages) {
    await expect.poll(() => page.evaluate(() => tw.errors()), { timeout: 20_000 }).toEqual([[true, 'rate_limited', 'slow down', id, 100]]);
  }
}

let browser: Browser;
let server: TestPageServer;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

const after = (values: number[]) => values.filter((v) => v > 0);
const upTo = (n: number, from = 1) => Array.from({ length: n - from + 1 }, (_, i) => from + i);

describe.each(['websocket', 'sse', 'longpoll'])('one connection in a SharedWorker over %s (Chromium)', (transport) => {
  beforeAll(async () => void (server = await serve()), 60_000);
  afterAll(() => server?.close());

  it('5 pages use 1 connection; each gets every message once, in order; pages publish and call rpc through it; closing pages keeps the others working', async () => {
    const context = await browser.newContext();
    const pages = await openTabs(context, 5, `${server.url}?transport=${transport}`);
    expect(await Promise.all(pages.map((p) => p.evaluate(() => tw.mode())))).toEqual(Array(5).fill('worker'));
    expect(await Promise.all(pages.map((p) => p.evaluate(() => tw.isLeader())))).toEqual(Array(5).fill(false));
    expect(await pages[0]!.evaluate(() => tw.transport())).toBe(transport);
    expect(server.tidewire.stats().sessions).toBe(1);
    await warmUp(pages, () => server.tidewire.publish('stream', 0));

    for (let i = 1; i <= 40; i++) await server.tidewire.publish('stream', i);
    expect(await pages[3]!.evaluate(() => tw.publish(41))).toBeGreaterThan(0);
    expect(await pages[1]!.evaluate(() => tw.rpc(20, 22))).toBe(42);
    // A refusal keeps its code and the handler's own code (appCode) through the worker or the leader.
    expect(await pages[2]!.evaluate(() => tw.refused())).toEqual([true, 'rpc_error', 'insufficient_funds', 'balance is 3']);
    await expectRateLimitedHeardBy(pages, pages[4]!);
    for (const page of pages) await expect.poll(() => page.evaluate(() => tw.got()).then(after), { timeout: 20_000 }).toEqual(upTo(41));

    // The first page (the one that started the worker) and another close: the worker stays with the rest.
    await pages[0]!.close();
    await pages[2]!.close();
    const rest = [pages[1]!, pages[3]!, pages[4]!];
    for (let i = 42; i <= 80; i++) await server.tidewire.publish('stream', i);
    expect(await rest[2]!.evaluate(() => tw.publish(81))).toBeGreaterThan(0);
    for (const page of rest) await expect.poll(() => page.evaluate(() => tw.got()).then(after), { timeout: 20_000 }).toEqual(upTo(81));
    expect(server.tidewire.stats().sessions).toBe(1);
    await context.close();
  }, 120_000);
});

describe('a SharedWorker that does not start (Chromium)', () => {
  beforeAll(async () => void (server = await serve()), 60_000);
  afterAll(() => server?.close());

  it('the pages fall back to a leader tab elected with Web Locks: still 1 connection, every message once, in order', async () => {
    const context = await browser.newContext();
    const pages = await openTabs(context, 3, `${server.url}?worker=/silent.js`);
    expect(await Promise.all(pages.map((p) => p.evaluate(() => tw.mode())))).toEqual(['leader', 'leader', 'leader']);
    expect((await Promise.all(pages.map((p) => p.evaluate(() => tw.isLeader())))).filter(Boolean)).toHaveLength(1);
    await expect.poll(() => server.tidewire.stats().sessions, { timeout: 15_000 }).toBe(1);
    await warmUp(pages, () => server.tidewire.publish('stream', 0));
    for (let i = 1; i <= 30; i++) await server.tidewire.publish('stream', i);
    for (const page of pages) await expect.poll(() => page.evaluate(() => tw.got()).then(after), { timeout: 20_000 }).toEqual(upTo(30));
    const follower = pages[(await Promise.all(pages.map((p) => p.evaluate(() => tw.isLeader())))).indexOf(false)]!;
    expect(await follower.evaluate(() => tw.rpc(1, 2))).toBe(3);
    expect(await follower.evaluate(() => tw.refused())).toEqual([true, 'rpc_error', 'insufficient_funds', 'balance is 3']);
    await expectRateLimitedHeardBy(pages, follower);
    await context.close();
  }, 90_000);
});
