import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidewire/core';
import { sse } from '@tidewire/core/sse';
import { buildDmInbox } from '../../../examples/dm-inbox/build';
import { signToken } from '../../../examples/dm-inbox/directory';
import { measure } from '../../../examples/dm-inbox/measure';
import { startDmInbox } from '../../../examples/dm-inbox/server';
import type { DmInbox } from '../../../examples/dm-inbox/server';
import { launchChromium } from './helpers/browser-page';

/** Outcomes are awaited by polling with a generous deadline: a loaded machine is slow, not wrong. */
const EVENTUALLY = { timeout: 20_000, interval: 100 };
/** The screenshot in the top README and the example's: `UPDATE_SCREENSHOTS=1` refreshes it; otherwise it goes to .artifacts/. */
const SCREENSHOT = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS ? '../../../examples/dm-inbox/screenshot.png' : '../../../.artifacts/dm-inbox.png', import.meta.url));

let outDir: string;
let inbox: DmInbox;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'tidewire-dm-inbox-'));
  await buildDmInbox(outDir);
  // A short heartbeat so a line that went dark is noticed within ~1.5 s by the client.
  inbox = await startDmInbox({ dir: outDir, heartbeat: 500 });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await inbox?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

async function open(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
  await page.goto(new URL(`?name=${name}`, inbox.url).toString());
  await expect.poll(() => page.getByTestId('connection').textContent(), EVENTUALLY).toBe('connected · sse');
  return { context, page };
}

const unread = (page: Page, channel: string) => page.locator(`#conversations li[data-channel="${channel}"]`).getAttribute('data-unread');
const texts = (page: Page) => page.locator('#messages li .text').allTextContents();

async function openConversation(page: Page, channel: string) {
  await page.locator(`#conversations li[data-channel="${channel}"] button`).click();
  await expect.poll(() => page.locator('#messages').getAttribute('data-loaded'), EVENTUALLY).toBe(channel);
}

async function write(page: Page, text: string) {
  await page.locator('#composer input').fill(text);
  await page.locator('#composer input').press('Enter');
}

describe('examples/dm-inbox (Fetch-API handler, SSE) in Chromium', () => {
  it('unread counts, history on opening, per-user channels, and a network drop caught up', async () => {
    const ada = await open('Ada');
    const bob = await open('Bob');
    expect(await ada.page.locator('#conversations li').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-channel')))).toEqual(['dm:Ada:Bob', 'dm:Ada:Eve', 'group:harbour', 'group:crew']);

    await openConversation(ada.page, 'dm:Ada:Bob');
    await write(ada.page, 'hi Bob');
    await write(ada.page, 'lunch at one?');
    await expect.poll(() => texts(ada.page), EVENTUALLY).toEqual(['hi Bob', 'lunch at one?']);
    // Bob has not opened it: two unread. Opening it shows the history and clears the count.
    await expect.poll(() => unread(bob.page, 'dm:Ada:Bob'), EVENTUALLY).toBe('2');
    await openConversation(bob.page, 'dm:Ada:Bob');
    expect(await texts(bob.page)).toEqual(['hi Bob', 'lunch at one?']);
    expect(await unread(bob.page, 'dm:Ada:Bob')).toBe('0');
    await write(bob.page, 'yes!');
    await expect.poll(() => texts(ada.page), EVENTUALLY).toEqual(['hi Bob', 'lunch at one?', 'yes!']);

    // Bob's network drops; Ada writes in the group. Back online, Bob's unread count shows them.
    await bob.context.setOffline(true);
    await expect.poll(() => bob.page.getByTestId('connection').getAttribute('data-state'), EVENTUALLY).not.toBe('connected');
    await openConversation(ada.page, 'group:crew');
    await write(ada.page, 'crew meeting at 3');
    await write(ada.page, 'bring the charts');
    await expect.poll(() => texts(ada.page), EVENTUALLY).toEqual(['crew meeting at 3', 'bring the charts']);
    await bob.context.setOffline(false);
    await expect.poll(() => unread(bob.page, 'group:crew'), EVENTUALLY).toBe('2');
    await openConversation(bob.page, 'group:crew');
    expect(await texts(bob.page)).toEqual(['crew meeting at 3', 'bring the charts']);

    await ada.page.screenshot({ path: SCREENSHOT });
    expect(pageErrors).toEqual([]);
  }, 55_000);

  it('authorize keeps dm:A:B to A and B and group:ID to its members', async () => {
    const eve = createClient({ url: `${inbox.url}tidewire`, token: signToken('Eve', 'dm-inbox-demo-secret'), transports: [sse()] });
    try {
      const theirs = eve.channel('dm:Ada:Bob');
      const crew = eve.channel('group:crew');
      const mine = eve.channel('dm:Ada:Eve');
      await expect.poll(() => [theirs, crew, mine].map((c) => c.getSnapshot().state), EVENTUALLY).toEqual(['failed', 'failed', 'subscribed']);
      expect(theirs.getSnapshot().error?.code).toBe('forbidden');
      await expect(theirs.history()).rejects.toMatchObject({ code: 'forbidden' });
    } finally {
      eve.close();
    }
  });

  it('the side-by-side script: an idle SSE user makes far fewer requests and bytes than 2 s polling', async () => {
    const m = await measure({ idleMs: 4000, messages: 5 });
    expect(m.polling.requestsPerMinute).toBeGreaterThanOrEqual(15); // ~30: one every 2 s
    expect(m.tidewire.requestsPerMinute).toBeLessThan(m.polling.requestsPerMinute / 5);
    expect(m.tidewire.bytesPerMinute).toBeLessThan(m.polling.bytesPerMinute);
    expect(Number.isFinite(m.tidewire.medianLatencyMs) && Number.isFinite(m.polling.medianLatencyMs)).toBe(true);
  }, 40_000);
});
