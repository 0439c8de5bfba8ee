import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { buildClusterChat } from '../../../examples/cluster-chat/build';
import { startClusterChat } from '../../../examples/cluster-chat/cluster';
import { saveSmallScreenshot } from './helpers/browser-page-screenshot';
import { exampleHarness, exampleScreenshotPath } from './helpers/example-harness';
import type { ExamplePage } from './helpers/example-harness';

/** Outcomes are awaited by polling with a generous deadline: a loaded machine is slow, not wrong. */
const EVENTUALLY = { timeout: 20_000 };
/** The screenshot in the top README and the example's (a small palette PNG). */
const SCREENSHOT = exampleScreenshotPath('cluster-chat');

const example = exampleHarness({
  example: 'cluster-chat',
  build: buildClusterChat,
  start: (dir) => startClusterChat({ port: 0, dir }),
  viewport: { width: 960, height: 640 },
});

/** `name`'s page, connected over `transport`. */
async function open(tag: string, name: string, transport = 'websocket'): Promise<ExamplePage> {
  const opened = await example.open(tag, `?name=${name}&transport=${transport}`);
  await opened.page.locator('[data-testid=connection][data-state=connected]').waitFor();
  return opened;
}

const texts = (page: Page) => page.locator('#messages li .text').allTextContents();
const offsets = (page: Page) => page.locator('#messages li').evaluateAll((rows) => rows.map((row) => Number(row.getAttribute('data-offset'))));
const online = (page: Page) => page.locator('[data-testid=online] li').allTextContents();
const waiting = (page: Page) => page.locator('#waiting-list li').allTextContents();
/** The names in who's online, from rows like `Ada · node B (you)`. */
const names = (rows: string[]) => rows.map((row) => row.split(' · ')[0]);
const nodeOf = (page: Page) => page.locator('#whoami').getAttribute('data-node');
/** A row of the "This connection" panel, e.g. `transport`. */
const lineValue = (page: Page, key: string) => page.locator('#line dt', { hasText: key }).locator('xpath=following-sibling::dd[1]').textContent();
/** Every offset on screen follows the one before: nothing lost, nothing repeated, nothing out of order. */
const consecutive = (offsets: number[]) => offsets.every((offset, i) => i === 0 || offset === offsets[i - 1]! + 1);

async function say(page: Page, text: string) {
  await page.locator('#composer input[name=text]').fill(text);
  await page.locator('#composer input[name=text]').press('Enter');
}

describe('examples/cluster-chat in Chromium, three nodes on Redis', () => {
  it("killing a node moves its users to the others with nothing lost, still listed in who's online; a closed page leaves the list; a network drop and a rate-limited burst arrive once, in order", async () => {
    const ada = await open('A', 'Ada');
    const bob = await open('B', 'Bob');
    const cat = await open('C', 'Cat');
    // Who's online, from presence in Redis: everyone on every node, each with the node they are on.
    for (const page of [ada.page, bob.page]) await expect.poll(async () => names(await online(page)), EVENTUALLY).toEqual(['Ada', 'Bob', 'Cat']);
    await expect.poll(() => nodeOf(ada.page), EVENTUALLY).toMatch(/^[ABC]$/);
    const before = (await nodeOf(ada.page))!;
    await expect.poll(() => online(ada.page), EVENTUALLY).toContain(`Ada · node ${before} (you)`);
    await expect.poll(() => online(bob.page), EVENTUALLY).toContain(`Ada · node ${before}`);

    await say(ada.page, 'hello from Ada');
    await expect.poll(() => texts(bob.page), EVENTUALLY).toEqual(['hello from Ada']);

    // Kill Ada's node from Bob's screen, and type on Ada's while her connection is gone: those
    // messages wait in her outbox and are stored once, in order, on whichever node she lands on.
    await bob.page.locator(`#nodes li[data-node=${before}] button`).click();
    await expect.poll(() => bob.page.locator(`#nodes li[data-node=${before}]`).getAttribute('data-alive'), EVENTUALLY).toBe('false');
    const failover = Array.from({ length: 5 }, (_, i) => `during failover ${i + 1}`);
    for (const text of failover) await say(ada.page, text);
    await expect.poll(async () => (await nodeOf(ada.page)) !== before && (await nodeOf(ada.page)) !== '', EVENTUALLY).toBe(true);
    await expect.poll(() => texts(bob.page), EVENTUALLY).toEqual(['hello from Ada', ...failover]);
    await expect.poll(() => ada.page.getByTestId('outbox').textContent(), EVENTUALLY).toBe('0');
    // Still online, once, on her new node: the entry of the dead node expires (presence.ttl), she
    // entered again from where she landed.
    const after = (await nodeOf(ada.page))!;
    await expect.poll(async () => (await online(bob.page)).filter((row) => row.startsWith('Ada')), EVENTUALLY).toEqual([`Ada · node ${after}`]);
    // A page that closes leaves the list, on every node.
    await cat.context.close();
    for (const page of [ada.page, bob.page]) await expect.poll(async () => names(await online(page)), EVENTUALLY).toEqual(['Ada', 'Bob']);
    expect(await waiting(bob.page)).toEqual([]); // nothing the SDK does not offer yet

    // Bob's network drops while Ada sends 20 at once (over the node's burst of 10: paced by the
    // client within the announced rate limit). Back online, Bob gets all of it once, in order.
    await bob.context.setOffline(true);
    for (const socket of example.socketsOf('B')) socket.destroy();
    await expect.poll(() => bob.page.getByTestId('connection').getAttribute('data-state'), EVENTUALLY).not.toBe('connected');
    await ada.page.locator('#burst').click();
    const burst = Array.from({ length: 20 }, (_, i) => `burst ${i + 1}/20`);
    await expect.poll(() => texts(ada.page), EVENTUALLY).toEqual(['hello from Ada', ...failover, ...burst]);
    expect(await texts(bob.page)).toEqual(['hello from Ada', ...failover]); // Bob really missed the burst
    await bob.context.setOffline(false);
    await expect.poll(() => texts(bob.page), EVENTUALLY).toEqual(['hello from Ada', ...failover, ...burst]);
    for (const page of [ada.page, bob.page]) expect(await offsets(page)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    await expect.poll(() => ada.page.getByTestId('notice').textContent(), EVENTUALLY).toBe('');

    await bob.page.locator(`#nodes li[data-node=${before}] button`).click(); // restart it
    await expect.poll(() => bob.page.locator(`#nodes li[data-node=${before}]`).getAttribute('data-alive'), EVENTUALLY).toBe('true');
    await expect.poll(() => ada.page.locator(`#nodes li[data-node=${before}]`).getAttribute('data-alive'), EVENTUALLY).toBe('true');
    await saveSmallScreenshot(ada.page, SCREENSHOT, { x: 0, y: 0, width: 960, height: 530 }); // the app, not the empty page below
    expect(example.pageErrors).toEqual([]);
  }, 55_000);

  it.each(['sse', 'longpoll'])('a user on %s survives the death of their node: still online, on another node; what they type meanwhile and what they miss arrive once, in order', async (transport) => {
    const who = transport === 'sse' ? 'Sam' : 'Lee';
    const user = await open(`${transport}User`, who, transport);
    const watcher = await open(`${transport}Watcher`, 'Wes');
    expect(await lineValue(user.page, 'transport')).toBe(transport);
    await expect.poll(() => nodeOf(user.page), EVENTUALLY).toMatch(/^[ABC]$/);
    const before = (await nodeOf(user.page))!;
    await say(user.page, `${who} on ${transport}`);
    await expect.poll(async () => (await texts(watcher.page)).includes(`${who} on ${transport}`), EVENTUALLY).toBe(true);

    // Kill the node that owns this user's session (its SSE stream or its long polls die with it);
    // both type meanwhile: the user's lines wait in the outbox, the watcher's must reach the user.
    await watcher.page.locator(`#nodes li[data-node=${before}] button`).click();
    await expect.poll(() => watcher.page.locator(`#nodes li[data-node=${before}]`).getAttribute('data-alive'), EVENTUALLY).toBe('false');
    const mine = [1, 2, 3].map((i) => `${who} during failover ${i}`);
    const theirs = [1, 2].map((i) => `Wes to ${who} ${i}`);
    for (const text of mine) await say(user.page, text);
    for (const text of theirs) await say(watcher.page, text);
    await expect.poll(async () => (await nodeOf(user.page)) !== before && (await nodeOf(user.page)) !== '', EVENTUALLY).toBe(true);
    expect(await lineValue(user.page, 'transport')).toBe(transport); // the same transport, on another node
    const after = (await nodeOf(user.page))!;
    await expect.poll(async () => (await online(watcher.page)).filter((row) => row.startsWith(who)), EVENTUALLY).toEqual([`${who} · node ${after}`]);

    // On both screens: every line once, each sender's in the order typed, the same order on both.
    const expected = [`${who} on ${transport}`, ...mine, ...theirs];
    for (const page of [user.page, watcher.page]) {
      await expect.poll(async () => (await texts(page)).filter((t) => expected.includes(t)).length, EVENTUALLY).toBe(expected.length);
    }
    const seen = await texts(user.page);
    expect(await texts(watcher.page)).toEqual(seen);
    for (const lines of [mine, theirs]) expect(seen.filter((t) => lines.includes(t))).toEqual(lines);
    expect(new Set(seen).size).toBe(seen.length);
    for (const page of [user.page, watcher.page]) expect(consecutive(await offsets(page))).toBe(true);
    await expect.poll(() => user.page.getByTestId('outbox').textContent(), EVENTUALLY).toBe('0');
    expect(await user.page.getByTestId('notice').textContent()).toBe('');

    await watcher.page.locator(`#nodes li[data-node=${before}] button`).click(); // restart it
    await expect.poll(() => watcher.page.locator(`#nodes li[data-node=${before}]`).getAttribute('data-alive'), EVENTUALLY).toBe('true');
    for (const { context } of [user, watcher]) await context.close();
    expect(example.pageErrors).toEqual([]);
  }, 55_000);
});
