import { mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildChat } from '../../../examples/react-chat/build';
import { startChatServer } from '../../../examples/react-chat/server';
import { exampleHarness } from './helpers/example-harness';

const ARTIFACTS = fileURLToPath(new URL('../../../.artifacts/', import.meta.url));

/** While true, the server side refuses every WebSocket (a dead network for every page, including a SharedWorker's socket). */
let refuseSockets = false;
/** Every WebSocket the server accepted (whoever opened it: a page or a SharedWorker). */
const allSockets = new Set<Duplex>();

const example = exampleHarness({
  example: 'react-chat',
  build: buildChat,
  async start(dir) {
    const chat = await startChatServer({ port: 0, dir, tidewire: { logger: { warn: () => {}, error: () => {} } } });
    // Registered before Tidewire's own listener, so a refusal comes first.
    chat.http.prependListener('upgrade', (_req: IncomingMessage, socket: Duplex) => {
      if (refuseSockets) return void socket.destroy();
      allSockets.add(socket);
      socket.once('close', () => allSockets.delete(socket));
    });
    return chat;
  },
  viewport: { width: 720, height: 640 },
});

const texts = (page: Page) => page.locator('[data-testid=messages] li[data-offset] .text').allTextContents();
const connection = (page: Page) => page.getByTestId('connection').getAttribute('data-state');

async function waitUntilLive(page: Page) {
  await page.locator('[data-testid=connection][data-state=connected]').waitFor();
  await page.locator('main.chat[data-status=subscribed]').waitFor();
}

async function say(page: Page, text: string) {
  const input = page.locator('input[name=message]');
  await input.fill(text);
  await input.press('Enter');
}

describe('examples/react-chat in Chromium', () => {
  it('two pages chat both ways; a page that was offline shows the 20 messages it missed exactly once, in order', async () => {
    // Page A joins through the form, page B through the URL.
    const a = await example.open('A');
    await a.page.locator('input[name=name]').fill('Ada');
    await a.page.getByRole('button', { name: 'Join' }).click();
    const b = await example.open('B', '?name=Bob&room=lobby');
    await waitUntilLive(a.page);
    await waitUntilLive(b.page);

    await say(a.page, 'hello from Ada');
    await expect.poll(() => texts(b.page)).toEqual(['hello from Ada']);
    await say(b.page, 'hi Ada, Bob here');
    await expect.poll(() => texts(a.page)).toEqual(['hello from Ada', 'hi Ada, Bob here']);

    // A goes offline. Chromium's offline emulation may leave an open WebSocket alone, so the
    // server also drops A's socket (as a dead network would); emulation then blocks reconnects.
    await a.context.setOffline(true);
    expect(await a.page.evaluate(() => navigator.onLine)).toBe(false);
    for (const socket of example.socketsOf('A')) socket.destroy();
    await expect.poll(() => connection(a.page)).not.toBe('connected');

    const missed = Array.from({ length: 20 }, (_, i) => `while you were away #${i + 1}`);
    for (const text of missed) await say(b.page, text);
    // B's own list shows them once the server stored and delivered them.
    await expect.poll(() => texts(b.page)).toEqual(['hello from Ada', 'hi Ada, Bob here', ...missed]);
    await b.page.getByText('Up to date').waitFor();
    expect(await connection(a.page)).not.toBe('connected');
    expect(await texts(a.page)).toEqual(['hello from Ada', 'hi Ada, Bob here']); // A really missed them

    await a.context.setOffline(false);
    await expect.poll(() => texts(a.page), { timeout: 15_000 }).toEqual(['hello from Ada', 'hi Ada, Bob here', ...missed]);
    await waitUntilLive(a.page);
    const offsets = await a.page.locator('[data-testid=messages] li[data-offset]').evaluateAll((items) => items.map((li) => Number(li.getAttribute('data-offset'))));
    expect(offsets).toEqual(Array.from({ length: 22 }, (_, i) => i + 1)); // once each, in order

    // And the line works both ways again.
    await say(a.page, 'back online');
    await expect.poll(() => texts(b.page)).toContain('back online');
    await expect.poll(() => texts(a.page)).toHaveLength(23);

    await mkdir(ARTIFACTS, { recursive: true });
    await a.page.screenshot({ path: join(ARTIFACTS, 'react-chat.png') });
    expect(example.pageErrors).toEqual([]);
  }, 30_000);

  it('shows who is online, and a reloaded page shows the recent past', async () => {
    const online = (page: Page) => page.locator('[data-testid=online] li').allTextContents();
    const c = await example.open('C', '?name=Cy&room=history');
    const d = await example.open('D', '?name=Dee&room=history');
    await waitUntilLive(c.page);
    await waitUntilLive(d.page);
    await expect.poll(async () => (await online(c.page)).sort()).toEqual(['Cy', 'Dee']);
    await expect.poll(async () => (await online(d.page)).sort()).toEqual(['Cy', 'Dee']);

    for (const text of ['first', 'second', 'third']) await say(c.page, text);
    await expect.poll(() => texts(d.page)).toEqual(['first', 'second', 'third']);

    // A reload starts a new page and a new connection: the room shows what was said before it came.
    await d.page.reload();
    await waitUntilLive(d.page);
    await expect.poll(() => texts(d.page)).toEqual(['first', 'second', 'third']);
    await expect.poll(async () => (await online(c.page)).sort()).toEqual(['Cy', 'Dee']); // the old Dee left, the new one joined
    await say(c.page, 'fourth');
    await expect.poll(() => texts(d.page)).toEqual(['first', 'second', 'third', 'fourth']); // and continues live, once each

    // Dee closes the tab: Cy sees Dee leave.
    await d.context.close();
    await expect.poll(() => online(c.page), { timeout: 15_000 }).toEqual(['Cy']);
    expect(example.pageErrors).toEqual([]);
  }, 30_000);

  it('?share=1: two tabs share one connection (shown on screen), and a message typed offline shows "sending…" in both, after a reload and after every tab closed, then is stored once', async () => {
    const stored: string[] = [];
    await example.app.tidewire.subscribe('chat:shared', (m) => void stored.push((m.data as { text: string }).text));
    const sessionsBefore = example.app.tidewire.stats().sessions;
    const context = await example.newContext({ viewport: { width: 720, height: 640 } });
    const tab = async (name: string) => {
      const page = await context.newPage();
      page.on('pageerror', (error) => example.pageErrors.push(`${name}: ${error.message}`));
      await page.goto(new URL(`?share=1&name=${name}&room=shared`, example.app.url).toString());
      return page;
    };
    const sharedBadge = (page: Page) => page.getByTestId('shared');
    const [e, f] = [await tab('Eve'), await tab('Fay')];
    await waitUntilLive(e);
    await waitUntilLive(f);
    for (const page of [e, f]) {
      await expect.poll(() => sharedBadge(page).getAttribute('data-tabs'), { timeout: 15_000 }).toBe('2');
      await expect.poll(() => sharedBadge(page).textContent()).toBe('shared with 2 tabs · worker'); // Chromium has SharedWorker
    }
    expect(example.app.tidewire.stats().sessions).toBe(sessionsBefore + 1); // one connection for both tabs
    await say(e, 'one socket for two tabs');
    await expect.poll(() => texts(f)).toEqual(['one socket for two tabs']);
    // Both tabs are one member, shown with the newest info.
    await expect.poll(() => e.locator('[data-testid=online] li').count()).toBe(1);

    // The network dies: Eve types; both tabs show it as "sending…" (the outbox is the connection's).
    refuseSockets = true;
    for (const socket of allSockets) socket.destroy();
    await expect.poll(() => connection(e)).not.toBe('connected');
    await say(e, 'typed offline');
    const sending = (page: Page) => page.getByTestId('pending').locator('.text').allTextContents();
    await expect.poll(() => sending(e)).toEqual(['typed offline']);
    await expect.poll(() => sending(f)).toEqual(['typed offline']);

    // Eve reloads: still "sending…". Then every tab closes (the worker ends): the message is in IndexedDB.
    await e.reload();
    await expect.poll(() => sending(e), { timeout: 15_000 }).toEqual(['typed offline']);
    await e.close();
    await f.close();
    const g = await tab('Eve');
    await expect.poll(() => sending(g), { timeout: 15_000 }).toEqual(['typed offline']);
    expect(await texts(g)).not.toContain('typed offline');

    refuseSockets = false; // back online: sent once, shown once, no longer "sending…"
    await waitUntilLive(g);
    await expect.poll(() => texts(g), { timeout: 20_000 }).toEqual(['one socket for two tabs', 'typed offline']);
    await expect.poll(() => sending(g)).toEqual([]);
    expect(stored).toEqual(['one socket for two tabs', 'typed offline']); // stored once
    expect(example.pageErrors).toEqual([]);
  }, 90_000);
});
