import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildSocialLive } from '../../../examples/social-live/build';
import { startSocialLive } from '../../../examples/social-live/server';
import { saveSmallScreenshot } from './helpers/browser-page-screenshot';
import { exampleHarness, exampleScreenshotPath } from './helpers/example-harness';

/** Outcomes are awaited by polling with a generous deadline: a loaded machine is slow, not wrong. */
const EVENTUALLY = { timeout: 20_000, interval: 100 };
/** The screenshot in the top README and the example's (a small palette PNG). */
const SCREENSHOT = exampleScreenshotPath('social-live');

const example = exampleHarness({
  example: 'social-live',
  build: buildSocialLive,
  // Tokens live 4 s, so the in-band refresh (at 80 %) happens during the test.
  start: (dir) => startSocialLive({ port: 0, dir, tokenTtl: 4, botEvery: 700 }),
  viewport: { width: 1000, height: 640 },
});

async function logIn(page: Page, name: string): Promise<void> {
  await page.locator('#login input[name=name]').fill(name);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect.poll(() => page.getByTestId('feed-line').textContent(), EVENTUALLY).toBe('timeline · sse connected');
  await expect.poll(() => page.getByTestId('chat-line').textContent(), EVENTUALLY).toBe('chat · websocket connected');
}

const chat = (page: Page) => page.locator('#chat li .text').allTextContents();
const timeline = (page: Page) => page.locator('#timeline li .text').allTextContents();
const problem = (page: Page) => page.getByTestId('problem').getAttribute('data-code');

async function say(page: Page, text: string) {
  await page.locator('#say input').fill(text);
  await page.locator('#say input').press('Enter');
}

/**
 * Send a chat line and wait for its own outcome: acked (the latency line changes, or it shows in
 * the list) or refused (the problem box gets a code).
 * @returns the refusal code, or undefined once sent
 */
async function sayOnce(page: Page, text: string): Promise<string | undefined> {
  await page.evaluate(() => document.querySelector('[data-testid=problem]')?.removeAttribute('data-code'));
  const before = await page.getByTestId('latency').textContent();
  await say(page, text);
  let outcome: string | null = null;
  await expect
    .poll(async () => (outcome = (await problem(page)) ?? ((await page.getByTestId('latency').textContent()) !== before || (await chat(page)).includes(text) ? 'sent' : null)), EVENTUALLY)
    .not.toBeNull();
  return outcome === 'sent' ? undefined : (outcome ?? undefined);
}

describe('examples/social-live in Chromium', () => {
  it('auth required, a timeline and trending over SSE, chat over WebSocket, a rate-limited line shown as rate_limited, held, then sent, a blocked mention refused, in-band refresh, a network drop', async () => {
    const ada = await example.open('A');
    // Not logged in: the server refuses the connection and the page shows the typed error.
    await expect.poll(() => problem(ada.page), EVENTUALLY).toBe('unauthorized');
    expect(await ada.page.getByTestId('problem').textContent()).toContain('Authentication required');
    await logIn(ada.page, 'Ada');
    const bob = await example.open('B');
    await logIn(bob.page, 'Bob');

    // The timeline and trending, pushed over SSE (the bot posts; trending counts its hashtags).
    await expect.poll(async () => (await timeline(bob.page)).length, EVENTUALLY).toBeGreaterThanOrEqual(2);
    await expect.poll(() => bob.page.locator('#trending li').count(), EVENTUALLY).toBeGreaterThan(0);
    await ada.page.locator('#post input').fill('Ada here #tidewire');
    await ada.page.locator('#post input').press('Enter');
    await expect.poll(async () => (await timeline(bob.page)).includes('Ada here #tidewire'), EVENTUALLY).toBe(true);
    await expect.poll(() => bob.page.locator('#trending li', { hasText: '#tidewire' }).count(), EVENTUALLY).toBe(1);

    // Chat over WebSocket, with the publish → ack latency shown.
    await say(ada.page, 'hi Bob');
    await expect.poll(() => chat(bob.page), EVENTUALLY).toEqual(['hi Bob']);
    await expect.poll(() => ada.page.getByTestId('latency').textContent(), EVENTUALLY).toMatch(/^latency \d+ ms \(publish → ack\)$/);

    // Rate limit: three messages per 5 s. The fourth is refused rate_limited by onPublish: the
    // page shows the typed refusal (client.on('error')) while the client holds the line and sends
    // it again when the server allows: it arrives, once, in order, and the refusal goes away.
    await say(ada.page, 'two');
    await say(ada.page, 'three');
    await say(ada.page, 'four');
    await expect.poll(() => problem(ada.page), EVENTUALLY).toBe('rate_limited');
    expect(await ada.page.getByTestId('problem').textContent()).toBe('Rate limit exceeded rate_limited: at most 3 messages per 5 s');
    await expect.poll(() => chat(bob.page), EVENTUALLY).toEqual(['hi Bob', 'two', 'three', 'four']);
    await expect.poll(() => ada.page.getByTestId('held').textContent(), EVENTUALLY).toBe('');
    await expect.poll(() => ada.page.getByTestId('problem').isHidden(), EVENTUALLY).toBe(true);
    expect(example.app.tidewire.metrics().refused.rate_limited ?? 0).toBeGreaterThan(0); // it really was refused first

    // Blocked interaction: Bob blocks Ada (an rpc); her @mention of him is refused by onPublish.
    await bob.page.locator('#block input').fill('Ada');
    await bob.page.locator('#block input').press('Enter');
    await expect.poll(() => bob.page.locator('#block').getAttribute('data-blocked'), EVENTUALLY).toBe('Ada');
    expect(await sayOnce(ada.page, '@Bob are you there?')).toBe('forbidden');
    expect(await ada.page.getByTestId('problem').textContent()).toContain('@Bob has blocked you');

    // The 4 s token was refreshed in-band, without a reconnect.
    await expect.poll(async () => Number(await ada.page.getByTestId('token').getAttribute('data-refreshes')), EVENTUALLY).toBeGreaterThanOrEqual(1);
    expect(await ada.page.getByTestId('chat-line').textContent()).toBe('chat · websocket connected');

    // Bob's network drops; Ada posts; back online Bob gets it once.
    await bob.context.setOffline(true);
    for (const socket of example.socketsOf('B')) socket.destroy();
    await expect.poll(() => bob.page.getByTestId('chat-line').getAttribute('data-state'), EVENTUALLY).not.toBe('connected');
    expect(await sayOnce(ada.page, 'while you were away')).toBeUndefined();
    await expect.poll(async () => (await chat(ada.page)).includes('while you were away'), EVENTUALLY).toBe(true);
    await bob.context.setOffline(false);
    await expect.poll(async () => (await chat(bob.page)).filter((t) => t === 'while you were away').length, EVENTUALLY).toBe(1);
    expect((await chat(bob.page)).slice(0, 4)).toEqual(['hi Bob', 'two', 'three', 'four']);

    await saveSmallScreenshot(ada.page, SCREENSHOT, { x: 0, y: 0, width: 1000, height: 510 }); // the app, not the empty page below
    expect(example.pageErrors).toEqual([]);
  }, 58_000);
});
