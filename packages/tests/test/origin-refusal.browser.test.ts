import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { launchChromium, startTestPage } from './helpers/browser-page';
import type { TestPageServer } from './helpers/browser-page';

// A page on an origin the server does not allow (a Vite dev server on another port, an origin missing
// from allowedOrigins), in real Chromium: over SSE and long polling the client reads the 403 and fails
// `forbidden_origin` at once (docs/deployment.md). The refusal used to carry no CORS header and its
// preflight was refused, so the browser hid it: the client saw a network error and retried forever.
const PAGE = `
import { createClient } from '@tidewire/core';
import { sse } from '@tidewire/core/sse';
import { longpoll } from '@tidewire/core/longpoll';

const port = new URLSearchParams(location.search).get('tidewire');
Object.assign(window, {
  attempt: (kind: 'sse' | 'longpoll') =>
    new Promise((resolve) => {
      const client = createClient({ url: 'http://localhost:' + port + '/tidewire', token: 'secret', transports: [kind === 'sse' ? sse() : longpoll()], backoff: () => 100 });
      client.on('state', ({ to }) => {
        if (to.state === 'failed') resolve({ state: to.state, code: to.error?.code });
      });
      client.connect();
    }),
});
`;

declare const attempt: (kind: 'sse' | 'longpoll') => Promise<{ state: string; code?: string }>;

let browser: Browser;
let page: TestPageServer;
let other: TidewireServer;
let otherPort = 0;
let refusedLogs: string[];
beforeAll(async () => {
  page = await startTestPage(PAGE);
  refusedLogs = [];
  other = createServer({ allowedOrigins: ['https://app.example'], logger: { warn: () => {}, error: (message) => void refusedLogs.push(message) } });
  otherPort = (await other.listen(0)).port;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await page?.close();
  await other?.close();
});

describe('a page on an origin the server refuses, in Chromium', () => {
  it.each([['sse'], ['longpoll']] as const)('%s: the client fails forbidden_origin, and the server logs what to configure once', async (kind) => {
    const tab = await browser.newPage();
    await tab.goto(`${page.url}?tidewire=${otherPort}`);
    await tab.waitForFunction(() => typeof (window as { attempt?: unknown }).attempt === 'function');
    expect(await tab.evaluate((k) => attempt(k), kind)).toEqual({ state: 'failed', code: 'forbidden_origin' });
    expect(refusedLogs.filter((m) => m.includes('refused a browser connection')).length).toBe(1);
    await tab.close();
  }, 60_000);
});
