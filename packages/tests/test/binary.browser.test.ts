import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startTestPage } from './helpers/browser-page';
import type { TestPageServer } from './helpers/browser-page';

// Binary payloads in a real browser (headless Chromium) against the real server: the browser's
// own WebSocket with binaryWebSocket() (binaryType, ArrayBuffer messages, Blob reading), counted
// frame by frame, and the msgpack() codec bundled for the browser.
const PAGE = `
import { createClient, type Client, type PayloadCodec } from '@tidewire/core';
import { binary, binaryWebSocket } from '@tidewire/core/binary';
import { msgpack } from '@tidewire/core/msgpack';

const frames = { textOut: 0, binaryOut: 0, textIn: 0, binaryIn: 0 };
class CountingWebSocket extends WebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    this.addEventListener('message', (e) => void (typeof e.data === 'string' ? frames.textIn++ : frames.binaryIn++));
  }
  override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
    if (typeof data === 'string') frames.textOut++;
    else frames.binaryOut++;
    super.send(data);
  }
}
const make = (codec: PayloadCodec): Client => createClient({ url: '/tidewire', codec, transports: [binaryWebSocket({ WebSocket: CountingWebSocket })] });
const hex = (data: unknown) => (data instanceof Uint8Array ? Array.from(data.subarray(0, 8)).join(',') + '/' + data.length : JSON.stringify(data));

async function roundTrip(codec: () => PayloadCodec, channel: string, payloads: unknown[], expected: number): Promise<string[]> {
  const sender = make(codec());
  const receiver = make(codec());
  const got: unknown[] = [];
  const ch = receiver.channel(channel);
  ch.on('message', (m) => got.push(m.data));
  while (ch.getSnapshot().state !== 'subscribed') await new Promise((r) => setTimeout(r, 10));
  for (const p of payloads) await sender.publish(channel, p);
  (window as unknown as { subscribed: Set<string> }).subscribed.add(channel);
  while (got.length < expected) await new Promise((r) => setTimeout(r, 10));
  return got.map((d) => (d instanceof Uint8Array ? hex(d) : d instanceof Object && 'when' in d ? JSON.stringify({ ...d, when: (d as { when: Date }).when.toISOString(), bytes: hex((d as { bytes: Uint8Array }).bytes) }) : JSON.stringify(d)));
}

const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
Object.assign(window, {
  subscribed: new Set<string>(),
  frames,
  bytes: () => roundTrip(binary, 'files', [Uint8Array.of(1, 2, 3), new Blob([Uint8Array.of(4, 5)]), Uint8Array.of(6).buffer, new Uint8Array(0), big], 6),
  packed: () => roundTrip(msgpack, 'packed', [{ a: 1, when: new Date(Date.UTC(2026, 0, 1)), bytes: Uint8Array.of(9) }], 1),
});
`;

declare const bytes: () => Promise<string[]>;
declare const packed: () => Promise<string[]>;
declare const frames: { textOut: number; binaryOut: number; textIn: number; binaryIn: number };

let browser: Browser;
let server: TestPageServer;
beforeAll(async () => {
  server = await startTestPage(PAGE, { limits: { maxPayload: 2 * 1024 * 1024 } });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('binary payloads in Chromium over binaryWebSocket()', () => {
  it('bytes from the page and from server.publish arrive as Uint8Array, through binary frames both ways', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => typeof (window as { bytes?: unknown }).bytes === 'function');
    const result = page.evaluate(() => bytes());
    await page.waitForFunction(() => (window as unknown as { subscribed: Set<string> }).subscribed.has('files'), undefined, { timeout: 30_000 });
    await server.tidewire.publish('files', Buffer.from([7, 7]));
    expect(await result).toEqual(['1,2,3/3', '4,5/2', '6/1', '/0', '0,31,62,93,124,155,186,217/1048576', '7,7/2']);
    const counted = await page.evaluate(() => ({ ...frames }));
    expect(counted.binaryOut).toBe(5); // the five byte publishes
    expect(counted.binaryIn).toBe(6); // six byte messages to the receiver
    await page.close();
  }, 60_000);

  it('msgpack() round-trips a structure with a Date and bytes', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => typeof (window as { packed?: unknown }).packed === 'function');
    expect(await page.evaluate(() => packed())).toEqual([JSON.stringify({ a: 1, when: '2026-01-01T00:00:00.000Z', bytes: '9/1' })]);
    expect(await page.evaluate(() => frames.binaryOut)).toBe(1);
    await page.close();
  }, 60_000);
});
