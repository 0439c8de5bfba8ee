// @vitest-environment node
// The Vue example in a real browser: Vite builds examples/vue-dashboard, one Node http server
// serves it together with Tidewire and the example's publisher, and Debian's Chromium runs it.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard } from '../../../examples/vue-dashboard/build';
import { startDashboard } from '../../../examples/vue-dashboard/server';
import type { Dashboard } from '../../../examples/vue-dashboard/server';
import { createClient } from '@tidewire/core';
import { injectedWebSocket } from './helpers/env';
import { launchChromium } from './helpers/browser-page';

const ARTIFACTS = fileURLToPath(new URL('../../../.artifacts/', import.meta.url));

let dir: string;
let dashboard: Dashboard;
let browser: Browser;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidewire-vue-dashboard-'));
  await buildDashboard(dir);
  dashboard = await startDashboard({
    port: 0,
    dir,
    intervalMs: 150,
    // A short heartbeat so a line that went dark is noticed within ~1.5 s by the client.
    tidewire: { heartbeat: 500, logger: { warn: () => {}, error: () => {} } },
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const text = async (page: Page, id: string) => ((await page.locator(`[data-testid="${id}"]`).textContent()) ?? '').trim();

/** Resolves once every value has changed `times` times (live updates, not one render). */
async function valuesUpdate(page: Page, times = 3): Promise<void> {
  const ids = ['cpu-value', 'mem-value', 'acme-value'];
  const seen = new Map(ids.map((id) => [id, new Set<string>()]));
  await expect
    .poll(
      async () => {
        for (const id of ids) seen.get(id)!.add(await text(page, id));
        return Math.min(...[...seen.values()].map((s) => s.size - (s.has('—') ? 1 : 0)));
      },
      { timeout: 8000, interval: 100 },
    )
    .toBeGreaterThanOrEqual(times);
}

describe('examples/vue-dashboard in Chromium', () => {
  it('updates live, shows the connection going away offline, and recovers when back online', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 560 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(dashboard.url);
    await expect.poll(() => text(page, 'conn-state'), { timeout: 8000 }).toBe('connected');
    expect(await text(page, 'conn-transport')).toBe('websocket');
    await valuesUpdate(page);

    await context.setOffline(true);
    await expect.poll(() => text(page, 'conn-state'), { timeout: 8000 }).not.toBe('connected');
    const frozen = await text(page, 'cpu-value');
    await page.waitForTimeout(600);
    expect(await text(page, 'cpu-value')).toBe(frozen); // nothing arrives while offline

    await context.setOffline(false);
    await expect.poll(() => text(page, 'conn-state'), { timeout: 10_000 }).toBe('connected');
    await valuesUpdate(page);
    // The missed messages were replayed from history: no gap notice on any card.
    expect(await page.locator('.gap').count()).toBe(0);

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'vue-dashboard.png') });
    expect(errors).toEqual([]);
    await context.close();
  }, 45_000);

  it('a freshly opened page starts with the recent past (history), then continues live without a gap or a duplicate', async () => {
    // Where the CPU stream stands before the page exists.
    const probe = createClient({ url: new URL('tidewire', dashboard.url).toString(), WebSocket: injectedWebSocket });
    await expect.poll(async () => (await probe.channel('metrics:cpu').history({ limit: 1 })).head, { timeout: 8000 }).toBeGreaterThanOrEqual(20);
    const headBefore = (await probe.channel('metrics:cpu').history({ limit: 1 })).head;
    probe.close();

    const context = await browser.newContext({ viewport: { width: 1100, height: 560 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(dashboard.url);
    const card = page.getByTestId('cpu-card');
    const attr = async (name: string) => Number(await card.getAttribute(name));
    await expect.poll(() => attr('data-last-offset'), { timeout: 10_000 }).toBeGreaterThan(headBefore);
    // Samples published before the page opened are on screen: that is history, not live delivery.
    expect(await attr('data-first-offset')).toBeLessThanOrEqual(headBefore);
    // One sample per offset, consecutive: no gap and no duplicate where the past meets the live stream.
    // Read in one evaluation: three separate reads of a live card can straddle a new sample.
    const [first, last, samples] = await card.evaluate((el) => ['data-first-offset', 'data-last-offset', 'data-samples'].map((name) => Number(el.getAttribute(name)))) as [number, number, number];
    expect(samples).toBe(last - first + 1);
    expect(errors).toEqual([]);
    await context.close();
  }, 45_000);

});
