import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startTestPage } from './helpers/browser-page';
import { openTabs, warmUp } from './helpers/shared-tabs';
import type { TestPageServer } from './helpers/browser-page';

// One connection shared by the tabs of an origin (@tidewire/core/shared): pages of one browser
// context share Web Locks and BroadcastChannel, as tabs of one profile do.
const PAGE = `
import { createSharedClient } from '@tidewire/core/shared';
const client = createSharedClient({ url: '/tidewire', backoff: () => 200 });
const got: number[] = [];
client.channel<number>('stream').on('message', (m) => void got.push(m.data));
Object.assign(window, {
  tw: {
    got: () => got,
    isLeader: () => client.isLeader,
    state: () => client.getSnapshot().state,
    publish: (data: number) => client.publish('stream', data).then((r) => r.offset),
  },
});
`;

interface PageApi {
  got(): number[];
  isLeader(): boolean;
  state(): string;
  publish(data: number): Promise<number>;
}
declare const tw: PageApi;

let browser: Browser;
let server: TestPageServer;
beforeAll(async () => {
  server = await startTestPage(PAGE, { history: { size: 10_000, ttl: 60_000 } });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const after = (values: number[]) => values.filter((v) => v > 0);

describe('one connection shared across tabs (Web Locks + BroadcastChannel) in Chromium', () => {
  it('10 tabs use 1 connection; each tab gets every message once, in order; a follower tab publishes through the leader', async () => {
    const context = await browser.newContext();
    const pages = await openTabs(context, 10, server.url);
    expect(server.tidewire.stats().sessions).toBe(1);
    expect((await Promise.all(pages.map((p) => p.evaluate(() => tw.isLeader())))).filter(Boolean)).toHaveLength(1);
    await warmUp(pages, () => server.tidewire.publish('stream', 0));
    for (let i = 1; i <= 50; i++) await server.tidewire.publish('stream', i);
    const follower = pages[(await Promise.all(pages.map((p) => p.evaluate(() => tw.isLeader())))).indexOf(false)]!;
    expect(await follower.evaluate(() => tw.publish(51))).toBeGreaterThan(0);
    const expected = Array.from({ length: 51 }, (_, i) => i + 1);
    for (const page of pages) await expect.poll(() => page.evaluate(() => tw.got()).then(after), { timeout: 15_000 }).toEqual(expected);
    expect(server.tidewire.stats().sessions).toBe(1);
    await context.close();
  }, 90_000);

  it.each([
    ['closes', (leader: Page) => leader.close()],
    // Chromium fires the Page Lifecycle `freeze` event on a background tab before suspending it; the
    // leader steps down on it. (CDP's Page.setWebLifecycleState does not freeze a visible headless
    // page — checked: timers kept running, no event — so the test dispatches the event itself.)
    ['freezes', (leader: Page) => leader.evaluate(() => void document.dispatchEvent(new Event('freeze')))],
  ] as const)('the leader tab %s mid-stream: another takes over, the others lose nothing and repeat nothing', async (_what, stopLeader) => {
    const context = await browser.newContext();
    const pages = await openTabs(context, 4, server.url);
    await warmUp(pages, () => server.tidewire.publish('stream', 0));
    const leaders = await Promise.all(pages.map((p) => p.evaluate(() => tw.isLeader())));
    const leader = pages[leaders.indexOf(true)]!;
    const others = pages.filter((p) => p !== leader);

    const total = 600;
    for (let i = 1; i <= total; i++) {
      await server.tidewire.publish('stream', i);
      if (i === 200) await stopLeader(leader); // mid-stream
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5)); // a stream, not one burst
    }
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    for (const page of others) await expect.poll(() => page.evaluate(() => tw.got()).then(after), { timeout: 20_000 }).toEqual(expected);
    await expect.poll(async () => (await Promise.all(others.map((p) => p.evaluate(() => tw.isLeader())))).filter(Boolean)).toHaveLength(1);
    await expect.poll(() => server.tidewire.stats().sessions, { timeout: 15_000 }).toBe(1);
    await context.close();
  }, 90_000);
});
