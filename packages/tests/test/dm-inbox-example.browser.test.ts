import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { sessionSecret, signToken } from '../../../examples/dm-inbox/directory';
import { measure } from '../../../examples/dm-inbox/measure';
import { startNextApp } from '../../../examples/dm-inbox/next-app';
import type { NextApp } from '../../../examples/dm-inbox/next-app';
import { launchChromium } from './helpers/browser-page';

/** Outcomes are awaited by polling with a generous deadline: a loaded machine is slow, not wrong. */
const EVENTUALLY = { timeout: 20_000, interval: 100 };
/** The screenshot in the top README and the example's: `UPDATE_SCREENSHOTS=1` refreshes it; otherwise it goes to .artifacts/. */
const SCREENSHOT = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS ? '../../../examples/dm-inbox/screenshot.png' : '../../../.artifacts/dm-inbox.png', import.meta.url));

let app: NextApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
/** Uncaught page errors and console errors (a hydration mismatch is one), except failed loads while offline. */
const pageErrors: string[] = [];
/** Every request a page made to the Tidewire endpoint. */
const tidewireRequests: string[] = [];

beforeAll(async () => {
  // The real Next.js app: `next build` (when the sources changed since the last one), then `next start`.
  // A short heartbeat so a line that went dark is noticed within ~1.5 s by the client.
  app = await startNextApp({ env: { DM_INBOX_HEARTBEAT_MS: '500' } });
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await app?.close();
});

/** A browser window logged in as `name` through the page's login form (a Server Action). */
async function logIn(name: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 900, height: 560 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource|net::ERR_/.test(message.text())) pageErrors.push(`${name}: ${message.text()}`);
  });
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/tidewire')) tidewireRequests.push(request.url());
  });
  await page.goto(app.url);
  await page.getByTestId('login').locator('select').selectOption(name);
  await page.getByTestId('login').locator('button').click();
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

describe('examples/dm-inbox: the Next.js app router app in Chromium', () => {
  it('unread counts, history on opening, per-user channels, and a network drop caught up', async () => {
    const ada = await logIn('Ada');
    const bob = await logIn('Bob');
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
    await bob.page.screenshot({ path: SCREENSHOT }); // Bob's inbox: the DM open, two unread in #crew
    await openConversation(bob.page, 'group:crew');
    expect(await texts(bob.page)).toEqual(['crew meeting at 3', 'bring the charts']);

    // A reload keeps the login (the cookie) and opening the DM again shows its history.
    await bob.page.reload();
    await expect.poll(() => bob.page.getByTestId('connection').textContent(), EVENTUALLY).toBe('connected · sse');
    await openConversation(bob.page, 'dm:Ada:Bob');
    expect(await texts(bob.page)).toEqual(['hi Bob', 'lunch at one?', 'yes!']);

    // The credential is an HttpOnly cookie: not readable by script, never in a Tidewire URL.
    expect(await bob.page.evaluate(() => document.cookie)).not.toContain('dm_session');
    expect(tidewireRequests.length).toBeGreaterThan(0);
    for (const url of tidewireRequests) expect(url).not.toMatch(/token|dm_session|Ada\.|Bob\./);

    expect(pageErrors).toEqual([]);
  }, 55_000);

  it.each([
    ['sse', sse],
    ['longpoll', longpoll],
  ])('authorize keeps dm:A:B to A and B and group:ID to its members (%s through the route handler)', async (_name, transport) => {
    const eve = createClient({ url: `${app.url}tidewire`, token: signToken('Eve', sessionSecret()), transports: [transport()] });
    try {
      const theirs = eve.channel('dm:Ada:Bob');
      const crew = eve.channel('group:crew');
      const mine = eve.channel('dm:Ada:Eve');
      await expect.poll(() => [theirs, crew, mine].map((c) => c.getSnapshot().state), EVENTUALLY).toEqual(['failed', 'failed', 'subscribed']);
      expect(theirs.getSnapshot().error?.code).toBe('forbidden');
      await expect(theirs.history()).rejects.toMatchObject({ code: 'forbidden' });
      await expect(crew.publish({ text: 'let me in' })).rejects.toMatchObject({ code: 'forbidden' });
    } finally {
      eve.close();
    }
  });

  it('refuses a connection without a valid login', async () => {
    const forged = createClient({ url: `${app.url}tidewire`, token: 'Ada.forged', transports: [sse()] });
    try {
      forged.channel('dm:Ada:Bob');
      await expect.poll(() => forged.getSnapshot().state, EVENTUALLY).toBe('failed');
      expect(forged.getSnapshot().error?.code).toBe('unauthorized');
    } finally {
      forged.close();
    }
  });

  it('the side-by-side script: an idle SSE user makes far fewer requests and bytes than 2 s polling', async () => {
    // A second `next start` (the default heartbeat) on the build beforeAll made: never rebuilt under the first one.
    const m = await measure({ idleMs: 4000, messages: 5, build: 'never' });
    expect(m.polling.requestsPerMinute).toBeGreaterThanOrEqual(15); // ~30: one every 2 s
    expect(m.tidewire.requestsPerMinute).toBeLessThan(m.polling.requestsPerMinute / 5);
    expect(m.tidewire.bytesPerMinute).toBeLessThan(m.polling.bytesPerMinute);
    expect(Number.isFinite(m.tidewire.medianLatencyMs) && Number.isFinite(m.polling.medianLatencyMs)).toBe(true);
  }, 60_000);
});
