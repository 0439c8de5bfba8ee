// @vitest-environment node
// The Vue dashboard's transport switch in a real browser: the same live view over WebSocket, SSE
// and long polling, built on the standalone useWebSocket(url, options) and useChannel.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildDashboard } from '../../../examples/vue-dashboard/build';
import { startDashboard } from '../../../examples/vue-dashboard/server';
import { saveSmallScreenshot } from './helpers/browser-page-screenshot';
import { exampleHarness, exampleScreenshotPath } from './helpers/example-harness';

/** Outcomes are awaited by polling with a generous deadline: a loaded machine is slow, not wrong. */
const EVENTUALLY = { timeout: 20_000, interval: 100 };

const example = exampleHarness({
  example: 'vue-dashboard',
  build: buildDashboard,
  // A short heartbeat so a line that went dark is noticed within ~1.5 s by the client.
  start: (dir) => startDashboard({ port: 0, dir, intervalMs: 150, tidewire: { heartbeat: 500, logger: { warn: () => {}, error: () => {} } } }),
  viewport: { width: 1100, height: 640 },
});

const text = async (page: Page, id: string) => ((await page.locator(`[data-testid="${id}"]`).textContent()) ?? '').trim();

/** Resolves once the CPU value has changed `times` times: live updates, not one render. */
async function live(page: Page, times = 3): Promise<void> {
  const seen = new Set<string>();
  await expect.poll(async () => seen.add(await text(page, 'cpu-value')) && [...seen].filter((v) => v !== '—').length, EVENTUALLY).toBeGreaterThanOrEqual(times);
}

async function connectedOver(page: Page, transport: string): Promise<void> {
  await expect.poll(() => text(page, 'conn-state'), EVENTUALLY).toBe('connected');
  await expect.poll(() => text(page, 'conn-transport'), EVENTUALLY).toBe(transport);
}

async function post(page: Page, note: string): Promise<void> {
  await page.locator('input[name=note]').fill(note);
  await page.locator('input[name=note]').press('Enter');
}

describe('examples/vue-dashboard: the same live view over websocket, sse and longpoll', () => {
  it('two viewers on different transports see the same data and notes; the UI switches transport; a dropped viewer catches up', async () => {
    const ada = await example.open('Ada', '?transport=sse&name=Ada');
    const bob = await example.open('Bob', '?transport=longpoll&name=Bob');
    await connectedOver(ada.page, 'sse');
    await connectedOver(bob.page, 'longpoll');
    await live(ada.page);
    await live(bob.page);

    // useWebSocket's send/data: a note posted over SSE's upstream POST reaches the long-poll viewer, and back.
    await post(ada.page, 'hello from SSE');
    await expect.poll(() => text(bob.page, 'note'), EVENTUALLY).toBe('Ada: hello from SSE');
    await post(bob.page, 'hello from long polling');
    await expect.poll(() => text(ada.page, 'note'), EVENTUALLY).toBe('Bob: hello from long polling');

    // Switch Ada's view in the UI: a new client on each transport, the same live data.
    for (const [label, transport] of [
      ['WebSocket', 'websocket'],
      ['Long polling', 'longpoll'],
      ['SSE', 'sse'],
    ] as const) {
      await ada.page.getByLabel(label).check();
      await connectedOver(ada.page, transport);
      await live(ada.page);
      expect(new URL(ada.page.url()).searchParams.get('transport')).toBe(transport);
    }

    // Bob's network drops (each new poll is blocked); Ada posts meanwhile. Back online, Bob's view
    // resumes from its positions: the note and the ticks he missed are replayed, with no gap.
    await bob.context.setOffline(true);
    await expect.poll(() => text(bob.page, 'conn-state'), EVENTUALLY).not.toBe('connected');
    await post(ada.page, 'while Bob was away');
    await expect.poll(() => text(ada.page, 'note'), EVENTUALLY).toBe('Ada: while Bob was away');
    expect(await text(bob.page, 'note')).toBe('Bob: hello from long polling');
    await bob.context.setOffline(false);
    await connectedOver(bob.page, 'longpoll');
    await expect.poll(() => text(bob.page, 'note'), EVENTUALLY).toBe('Ada: while Bob was away');
    await live(bob.page);
    expect(await bob.page.locator('.gap').count()).toBe(0);

    await saveSmallScreenshot(ada.page, exampleScreenshotPath('vue-dashboard'), { x: 0, y: 0, width: 1100, height: 520 });
    expect(example.pageErrors).toEqual([]);
  }, 55_000);
});
