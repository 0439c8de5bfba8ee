import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

/** What the shared-connection test pages put on `window.tw`, as far as these helpers use it. */
interface TabApi {
  got(): unknown[];
  state(): string;
}
declare const tw: TabApi;

/**
 * Open `count` pages of `url` in `context` (one profile's tabs), wait until each has its `tw` API
 * and reports `connected`, and fail on any page error.
 */
export async function openTabs(context: BrowserContext, count: number, url: string): Promise<Page[]> {
  const pages: Page[] = [];
  const errors: string[] = [];
  for (let i = 0; i < count; i++) {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => typeof (window as { tw?: unknown }).tw === 'object');
    pages.push(page);
  }
  for (const page of pages) await page.waitForFunction(() => tw.state() === 'connected', undefined, { timeout: 20_000 });
  expect(errors).toEqual([]);
  return pages;
}

/**
 * Publish (with `publish`, e.g. the server's own publish of 0) until every page delivered
 * something: every tab's subscription is live from then on.
 */
export async function warmUp(pages: Page[], publish: () => Promise<unknown>): Promise<void> {
  await expect
    .poll(
      async () => {
        await publish();
        const counts = await Promise.all(pages.map((p) => p.evaluate(() => tw.got().length)));
        return counts.every((n) => n > 0);
      },
      { timeout: 20_000, interval: 100 },
    )
    .toBe(true);
}
