import { mkdtemp, rm } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChat } from '../../../examples/react-chat/build';
import { startChatServer } from '../../../examples/react-chat/server';
import { launchChromium, startTestPage } from './helpers/browser-page';
import type { TestPageServer } from './helpers/browser-page';

// The persisted outbox in a real browser: IndexedDB through @tidewire/core/idb, a real reload.
const PAGE = `
import { createClient } from '@tidewire/core';
import { indexedDbOutbox } from '@tidewire/core/idb';
const storage = indexedDbOutbox();
const client = createClient({ url: '/tidewire', outboxStorage: storage, backoff: () => 200 });
Object.assign(window, {
  tw: {
    publish: (text: string) => void client.publish('room', text).catch(() => {}),
    pending: () => client.listPendingPublishes().map((p) => p.data),
    stored: async () => (await storage.list()).map((e) => e.data),
    state: () => client.getSnapshot().state,
  },
});
`;

interface PageApi {
  publish(text: string): void;
  pending(): unknown[];
  stored(): Promise<unknown[]>;
  state(): string;
}
declare const tw: PageApi;

let browser: Browser;
let server: TestPageServer;
beforeAll(async () => {
  server = await startTestPage(PAGE);
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function ready(page: Page) {
  await page.waitForFunction(() => typeof (window as { tw?: unknown }).tw === 'object');
}

describe('persisted outbox in Chromium', () => {
  it('offline: publish, reload the page, go online → the publish is stored exactly once and leaves IndexedDB', async () => {
    const stored: unknown[] = [];
    await server.tidewire.subscribe('room', (m) => void stored.push(m.data));
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url);
    await ready(page);

    server.cut(true); // the network to the server is gone; the page itself still loads
    await page.evaluate(() => tw.publish('typed offline'));
    await expect.poll(() => page.evaluate(() => tw.stored()), { timeout: 10_000 }).toEqual(['typed offline']);
    expect(await page.evaluate(() => tw.state())).not.toBe('connected');

    await page.reload(); // the app is gone; what it typed is in IndexedDB
    await ready(page);
    // After the reload the app lists it again ("sending…") before anything reached the server.
    await expect.poll(() => page.evaluate(() => tw.pending()), { timeout: 10_000 }).toEqual(['typed offline']);
    expect(stored).toEqual([]);

    server.cut(false);
    await expect.poll(() => stored, { timeout: 15_000 }).toEqual(['typed offline']);
    await expect.poll(() => page.evaluate(() => tw.pending()), { timeout: 15_000 }).toEqual([]);
    await expect.poll(() => page.evaluate(() => tw.stored()), { timeout: 15_000 }).toEqual([]);

    // Reloading again sends nothing more: a server publish after it is the next message stored.
    await page.reload();
    await ready(page);
    await server.tidewire.publish('room', 'marker');
    await expect.poll(() => stored).toEqual(['typed offline', 'marker']);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});

describe('examples/react-chat: messages typed offline survive a reload', () => {
  it('typed offline, page reloaded: shown as "sending…" from IndexedDB, then delivered once when the line is back', async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'tidewire-chat-outbox-'));
    await buildChat(outDir);
    const chat = await startChatServer({ port: 0, dir: outDir, tidewire: { logger: { warn: () => {}, error: () => {} } } });
    // Cut the network to Tidewire only (the page still loads): WebSocket upgrades are refused.
    let cut = false;
    const sockets = new Set<Duplex>();
    chat.http.prependListener('upgrade', (_req, socket: Duplex) => {
      if (cut) return void socket.destroy();
      sockets.add(socket);
    });
    const stored: unknown[] = [];
    await chat.tidewire.subscribe('chat:outbox', (m) => void stored.push(m.data));
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const texts = () => page.locator('[data-testid=messages] li[data-offset] .text').allTextContents();
      const pendingTexts = () => page.locator('[data-testid=pending] .text').allTextContents();
      await page.goto(new URL('?name=Ada&room=outbox', chat.url).toString());
      await page.locator('main.chat[data-status=subscribed]').waitFor();

      cut = true;
      for (const socket of sockets) socket.destroy();
      await expect.poll(() => page.getByTestId('connection').getAttribute('data-state')).not.toBe('connected');
      const input = page.locator('input[name=message]');
      await input.fill('typed offline');
      await input.press('Enter');
      await expect.poll(pendingTexts).toEqual(['typed offline']);

      await page.reload();
      // After the reload the message is still there, "sending…", from IndexedDB.
      await expect.poll(pendingTexts, { timeout: 15_000 }).toEqual(['typed offline']);
      expect(await texts()).toEqual([]);

      cut = false;
      await expect.poll(texts, { timeout: 20_000 }).toEqual(['typed offline']);
      await expect.poll(pendingTexts).toEqual([]);
      // Stored exactly once on the server.
      await expect.poll(() => stored.map((m) => (m as { text: string }).text)).toEqual(['typed offline']);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await chat.close();
      await rm(outDir, { recursive: true, force: true });
    }
  }, 90_000);
});
