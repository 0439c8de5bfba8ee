import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildTeamRooms } from '../../../examples/team-rooms/build';
import { startTeamRooms } from '../../../examples/team-rooms/server';
import { saveSmallScreenshot } from './helpers/browser-page-screenshot';
import { exampleHarness, exampleScreenshotPath } from './helpers/example-harness';
import type { ExamplePage } from './helpers/example-harness';

/** Outcomes are awaited by polling with a generous deadline: a loaded machine is slow, not wrong. */
const EVENTUALLY = { timeout: 20_000 };
/** The screenshot in the top README and the example's (a small palette PNG). */
const SCREENSHOT = exampleScreenshotPath('team-rooms');

const example = exampleHarness({
  example: 'team-rooms',
  build: buildTeamRooms,
  start: (dir) => startTeamRooms({ port: 0, dir, tidewire: { logger: { warn: () => {}, error: () => {} } } }),
  viewport: { width: 900, height: 620 },
});

/** A logged-in user in their own browser context (own storage and network conditions). */
async function logIn(tag: string, name: string): Promise<ExamplePage> {
  const opened = await example.open(tag);
  await opened.page.locator('#login input[name=name]').fill(name);
  await opened.page.getByRole('button', { name: 'Log in' }).click();
  await opened.page.locator('[data-testid=connection][data-state=connected]').waitFor();
  return opened;
}

const texts = (page: Page) => page.locator('#messages li:not(.system) .text').allTextContents();
const members = (page: Page) => page.locator('[data-testid=members] li').allTextContents();

async function say(page: Page, text: string) {
  await page.locator('#composer input[name=text]').fill(text);
  await page.locator('#composer input[name=text]').press('Enter');
}

async function joinRoom(page: Page, room: string, passphrase = '') {
  await page.locator('#join input[name=room]').fill(room);
  await page.locator('#join input[name=passphrase]').fill(passphrase);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect.poll(() => page.getByTestId('room').textContent(), EVENTUALLY).toContain(room);
}

describe('examples/team-rooms in Chromium', () => {
  it('presence, acked sends except to the sender, a network drop, a file, an rpc, an encrypted room and the ops dashboard', async () => {
    const ada = await logIn('A', 'Ada');
    const bob = await logIn('B', 'Bob');
    // Join/leave: both see both in "Here now".
    await expect.poll(() => members(ada.page), EVENTUALLY).toEqual(['Ada', 'Bob']);
    await expect.poll(() => members(bob.page), EVENTUALLY).toEqual(['Ada', 'Bob']);

    // Acknowledged send, delivered to the room except the sender (who shows it once, ticked on the ack).
    await say(ada.page, 'hello team');
    await expect.poll(() => texts(bob.page), EVENTUALLY).toEqual(['hello team']);
    await ada.page.locator('#messages li.mine[data-acked=true]').waitFor();
    expect(await texts(ada.page)).toEqual(['hello team']);

    // Bob's network drops (emulation blocks reconnects; the server cuts his live socket as a dead
    // network would). What Ada says meanwhile reaches him once, in order, when he is back.
    await bob.context.setOffline(true);
    for (const socket of example.socketsOf('B')) socket.destroy();
    await expect.poll(() => bob.page.getByTestId('connection').getAttribute('data-state'), EVENTUALLY).not.toBe('connected');
    const missed = ['while you were away 1', 'while you were away 2', 'while you were away 3'];
    for (const text of missed) await say(ada.page, text);
    await expect.poll(() => ada.page.locator('#messages li.mine[data-acked=true]').count(), EVENTUALLY).toBe(4);
    expect(await texts(bob.page)).toEqual(['hello team']);
    await bob.context.setOffline(false);
    await expect.poll(() => texts(bob.page), EVENTUALLY).toEqual(['hello team', ...missed]);
    await bob.page.locator('[data-testid=connection][data-state=connected]').waitFor();

    // Binary: Bob shares a small PNG; Ada sees it as an image with the same bytes.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    await bob.page.locator('#composer input[name=file]').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: png });
    await bob.page.locator('#composer button[type=submit]').click();
    await ada.page.locator('#messages img[alt="dot.png"]').waitFor();
    const shown = await ada.page.locator('#messages img[alt="dot.png"]').evaluate(async (img: HTMLImageElement) => Array.from(new Uint8Array(await (await fetch(img.src)).arrayBuffer())));
    expect(shown).toEqual(Array.from(png));

    // Request/response: Ada's /roll is answered to her and posted by the server to the room.
    await say(ada.page, '/roll 3d6');
    await expect.poll(() => ada.page.getByTestId('notice').textContent(), EVENTUALLY).toMatch(/^You rolled 3d6: \d+$/);
    const total = (await ada.page.getByTestId('notice').textContent())?.split(': ')[1];
    for (const page of [ada.page, bob.page]) {
      await expect.poll(async () => (await texts(page)).filter((t) => t.startsWith('rolled 3d6:')), EVENTUALLY).toEqual([expect.stringMatching(new RegExp(`^rolled 3d6: \\d \\+ \\d \\+ \\d = ${total}$`))]);
    }
    await say(ada.page, '/roll 0d6');
    await expect.poll(() => ada.page.getByTestId('notice').textContent(), EVENTUALLY).toContain('write dice as NdM');
    await saveSmallScreenshot(ada.page, SCREENSHOT);

    // End-to-end encrypted room: both derive the key from the passphrase; the server relays
    // ciphertext it cannot read, and a wrong passphrase cannot open it.
    await joinRoom(ada.page, 'vault', 'correct horse');
    await joinRoom(bob.page, 'vault', 'correct horse');
    await expect.poll(() => members(ada.page), EVENTUALLY).toEqual(['Ada', 'Bob']);
    await say(ada.page, 'the launch code is 1234');
    await expect.poll(() => texts(bob.page), EVENTUALLY).toEqual(['the launch code is 1234']);
    const relayed = example.app.relayed.get('secret:vault') ?? '';
    expect(relayed).toContain('$e2e');
    expect(relayed).not.toContain('launch');
    const eve = await logIn('E', 'Eve');
    await joinRoom(eve.page, 'vault', 'wrong guess');
    await expect.poll(() => texts(eve.page), EVENTUALLY).toEqual(['(cannot decrypt: a different passphrase)']);

    // Operator dashboard: Prometheus figures and the ciphertext the server relayed.
    const ops = await ada.context.newPage();
    await ops.goto(new URL('/ops', example.app.url).toString());
    await expect.poll(async () => Number(await ops.locator('dd[data-metric=tidewire_sessions]').textContent()), EVENTUALLY).toBe(3);
    expect(Number(await ops.locator('dd[data-metric=tidewire_publishes_total]').textContent())).toBeGreaterThanOrEqual(7);
    expect(await ops.locator('tr[data-channel="secret:vault"]').textContent()).not.toContain('launch');

    expect(example.pageErrors).toEqual([]);
  }, 55_000);

  it('the auth middleware and the Tidewire authenticate hook refuse a missing or forged token', async () => {
    const me = (authorization?: string) => fetch(new URL('/api/me', example.app.url), { headers: authorization ? { authorization } : {} });
    expect((await me()).status).toBe(401);
    const login = (await (await fetch(new URL('/api/login', example.app.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ada' }) })).json()) as { token: string };
    expect(await (await me(`Bearer ${login.token}`)).json()).toEqual({ name: 'Ada' });
    const forged = `${Buffer.from('Root').toString('base64url')}.${login.token.split('.')[1]}`;
    expect((await me(`Bearer ${forged}`)).status).toBe(401);

    const context = await example.newContext();
    const page = await context.newPage();
    await page.goto(example.app.url);
    const outcome = await page.evaluate(async (token) => {
      const ws = new WebSocket(new URL('/tidewire', location.href.replace('http', 'ws')));
      return new Promise<string>((done) => {
        ws.onopen = () => ws.send(JSON.stringify({ type: 'connect', v: 1, token }));
        ws.onmessage = (event) => done(String(event.data));
      });
    }, forged);
    expect(JSON.parse(outcome)).toMatchObject({ type: 'close', code: 'unauthorized' });
  });
});
