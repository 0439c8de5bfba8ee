import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from './browser-page';

/**
 * The shared setup of the example browser tests (`*-example.browser.test.ts`, `react-chat.browser.test.ts`):
 * each builds its example into a temp folder, starts the example's own server on it, drives
 * headless Chromium pages against it, and tears all of that down at the end. The pieces that differ
 * (how to build, how to start, the window size) are options; what a test asserts stays in the test.
 */

/** What an example's start function returns, as far as the harness uses it. */
export interface ExampleApp {
  /** The page, e.g. `http://127.0.0.1:PORT/` (a trailing slash: paths and queries resolve against it). */
  readonly url: string;
  /** The server the pages' WebSocket upgrades arrive on (the one `socketsOf` watches). */
  readonly http: HttpServer;
  close(): Promise<void>;
}

/** How to build and start one example, and how big its pages are. */
export interface ExampleHarnessOptions<App extends ExampleApp> {
  /** The example's folder under `examples/`, e.g. `social-live`: it names the temp folder. */
  readonly example: string;
  /** Build the example's browser code into `dir` (the example's `build.ts`). */
  build(dir: string): Promise<void>;
  /**
   * Start the app serving `dir` on a free port. A test that must see upgrades before the app does
   * (to refuse them) registers its `prependListener('upgrade', …)` here, before the harness adds its own.
   */
  start(dir: string): Promise<App>;
  /** The viewport of every page `open` opens (sized so the screenshots show the app, not blank page). */
  readonly viewport: { readonly width: number; readonly height: number };
}

/** A page opened by `open`, in its own browser context (own cookies, storage and network conditions). */
export interface ExamplePage {
  readonly context: BrowserContext;
  readonly page: Page;
}

/** The running example and its browser, usable inside tests (after the harness's `beforeAll`). */
export interface ExampleHarness<App extends ExampleApp> {
  /** The started app; throws before `beforeAll` has run. */
  readonly app: App;
  /** The shared headless Chromium; throws before `beforeAll` has run. */
  readonly browser: Browser;
  /**
   * Every uncaught error of a page opened with `open`, as `tag: message`. Tests end with
   * `expect(pageErrors).toEqual([])`; a test watching pages of its own pushes to it too.
   */
  readonly pageErrors: string[];
  /**
   * The WebSocket connections the page with user-agent tag `tag` opened to `app.http` (live set,
   * empty if none yet). Chromium's offline emulation may leave an open WebSocket alone, so a test
   * that takes a page offline destroys these as a dead network would.
   * @param tag the tag given to `open`
   * @returns the sockets, in the order they were opened
   */
  socketsOf(tag: string): Set<Duplex>;
  /**
   * A new browser context, closed by the harness at the end.
   * @param options Playwright's context options, passed as they are
   * @returns the context
   */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /**
   * Open `path` (resolved against `app.url`) in a new context whose user agent is
   * `tidewire-e2e/<tag>` (so `socketsOf(tag)` can tell its sockets apart), recording page errors.
   * @param tag a word (letters, digits, `_`) naming this page
   * @param path a path or query, e.g. `?name=Ada`; default: the app's page
   * @returns the context and its page, once the page has loaded
   */
  open(tag: string, path?: string): Promise<ExamplePage>;
}

/** The user agent of a page opened by `open`: the tag is what `socketsOf` looks up. */
const TAGGED_AGENT = /tidewire-e2e\/(\w+)/;

function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`exampleHarness: ${what} is used before beforeAll started it`);
  return value;
}

/**
 * Register the `beforeAll` and `afterAll` of an example browser test file: build the example into
 * a temp folder, start it, record its WebSocket upgrades by user-agent tag, launch Chromium; at the
 * end close every context, the browser and the app, and remove the folder. Call it once, at the
 * top level of the test file.
 * @param options how to build and start the example, and the page size
 * @returns the harness, whose `app` and `browser` are usable inside tests
 * @example
 * const example = exampleHarness({ example: 'team-rooms', build: buildTeamRooms, start: (dir) => startTeamRooms({ port: 0, dir }), viewport: { width: 900, height: 620 } });
 * it('chats', async () => {
 *   const { page } = await example.open('A');
 *   // …
 *   expect(example.pageErrors).toEqual([]);
 * });
 */
export function exampleHarness<App extends ExampleApp>(options: ExampleHarnessOptions<App>): ExampleHarness<App> {
  let dir: string | undefined;
  let app: App | undefined;
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const upgrades = new Map<string, Set<Duplex>>();
  const socketsOf = (tag: string) => upgrades.get(tag) ?? new Set<Duplex>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `tidewire-${options.example}-`));
    await options.build(dir);
    app = await options.start(dir);
    // First in line, so it records every upgrade whatever a later listener does with the socket.
    app.http.prependListener('upgrade', (req: IncomingMessage, socket: Duplex) => {
      const tag = TAGGED_AGENT.exec(req.headers['user-agent'] ?? '')?.[1];
      if (tag) upgrades.set(tag, socketsOf(tag).add(socket));
    });
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await app?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const harness: ExampleHarness<App> = {
    get app() {
      return started(app, 'app');
    },
    get browser() {
      return started(browser, 'browser');
    },
    pageErrors,
    socketsOf,
    async newContext(contextOptions) {
      const context = await harness.browser.newContext(contextOptions);
      contexts.push(context);
      return context;
    },
    async open(tag, path = '') {
      const context = await harness.newContext({ userAgent: `tidewire-e2e/${tag}`, viewport: options.viewport });
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${tag}: ${error.message}`));
      await page.goto(new URL(path, harness.app.url).toString());
      return { context, page };
    },
  };
  return harness;
}

/**
 * Where an example test writes its screenshot: the example's committed `screenshot.png` (shown in
 * the READMEs) when `UPDATE_SCREENSHOTS=1`, otherwise `.artifacts/<example>.png`, so a plain test
 * run never changes a tracked file.
 * @param example the example's folder under `examples/`, e.g. `social-live`
 * @returns an absolute path
 */
export function exampleScreenshotPath(example: string): string {
  const target = process.env.UPDATE_SCREENSHOTS ? `../../../../examples/${example}/screenshot.png` : `../../../../.artifacts/${example}.png`;
  return fileURLToPath(new URL(target, import.meta.url));
}
