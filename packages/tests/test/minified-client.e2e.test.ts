import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as Core from '@tidewire/core';
import type * as Rpc from '@tidewire/core/rpc';
import type { sse as SseFactory } from '@tidewire/core/sse';
import type { longpoll as LongpollFactory } from '@tidewire/core/longpoll';
import { clientMinify } from '../../../scripts/size-config.mjs';
import { injectedWebSocket } from './helpers/env';
import { startServer, until } from './helpers/servers';

/**
 * The client as it ships: minified with internal `name_` members shortened (the same
 * scripts/size-config.mjs options the published build and the size budgets use). Every other suite
 * runs the sources, so this is the one that would catch a member renamed in one place but read
 * under its old name in another (a mangled name never matches an unmangled one).
 */
type Bundle = typeof Core & Pick<typeof Rpc, 'rpc'> & { sse: typeof SseFactory; longpoll: typeof LongpollFactory };

let bundle: Bundle;
let dir: string;
let code: string;

beforeAll(async () => {
  const result = await build({
    stdin: {
      contents: [
        `export * from '@tidewire/core';`,
        `export { rpc } from '@tidewire/core/rpc';`,
        `export { sse } from '@tidewire/core/sse';`,
        `export { longpoll } from '@tidewire/core/longpoll';`,
      ].join('\n'),
      resolveDir: resolve(import.meta.dirname, '..'),
      loader: 'ts',
    },
    bundle: true,
    minify: true,
    ...clientMinify,
    format: 'esm',
    platform: 'node',
    conditions: ['@tidewire/source'],
    write: false,
    logLevel: 'error',
  });
  code = result.outputFiles[0]!.text;
  dir = mkdtempSync(join(tmpdir(), 'tidewire-minified-'));
  const file = join(dir, 'client.mjs');
  writeFileSync(file, code);
  bundle = (await import(pathToFileURL(file).href)) as Bundle;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const transports: [string, () => Core.TransportFactory][] = [
  ['websocket', () => bundle.websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ['sse', () => bundle.sse()],
  ['longpoll', () => bundle.longpoll()],
];

describe('the shipped client bundle', () => {
  it('has its internal members shortened and its public names intact', () => {
    expect(code).not.toMatch(/\b(?:resubscribe_|sinks_|canSend_|onConnected_|enqueue_)\b/);
    for (const name of ['getSnapshot', 'subscribe', 'publish', 'presence', 'history', 'listPendingPublishes', 'cancelPublish']) expect(code).toContain(name);
  });
});

describe.each(transports)('the shipped (minified, mangled) client over %s against the real server', (_name, transport) => {
  it('subscribes, publishes, recovers a drop once and in order, and serves presence, history, rpc and the outbox', async () => {
    await using t = await startServer({
      logger: { warn: () => {}, error: () => {} },
      authenticate: ({ token }) => (token ? { user: token } : null),
      rpc: { double: ({ data }) => (data as number) * 2 },
    });
    const alice = bundle.createClient({ url: t.url, token: 'alice', transports: [transport()], backoff: () => 20 });
    const bob = bundle.createClient({ url: t.url, token: 'bob', transports: [transport()], backoff: () => 20 });
    try {
      const aliceRoom = alice.channel<number>('room:1');
      const bobRoom = bob.channel<number>('room:1');
      const got: number[] = [];
      bobRoom.on('message', (m) => got.push(m.data));
      await until(() => aliceRoom.getSnapshot().state === 'subscribed' && bobRoom.getSnapshot().state === 'subscribed', 'both subscribed');

      const first = await aliceRoom.publish(1);
      expect(first).toMatchObject({ offset: 1 });
      await until(() => got.length === 1, 'bob gets 1');

      // Bob's line drops while alice publishes: he resubscribes from his position and gets the rest once, in order.
      bob.disconnectTransport('test drop');
      for (const n of [2, 3, 4]) await aliceRoom.publish(n);
      await until(() => got.length === 4 && bobRoom.getSnapshot().state === 'subscribed', 'bob recovers');
      expect(got).toEqual([1, 2, 3, 4]);
      expect(bobRoom.getSnapshot()).toMatchObject({ state: 'subscribed', recovered: true });
      expect(bobRoom.position).toMatchObject({ offset: 4 });
      expect(bob.getMetrics().reconnects).toBeGreaterThanOrEqual(1);

      // Presence: bob watches (a listener starts it), alice enters, bob sees her.
      const stopWatching = bobRoom.presence.subscribe(() => {});
      await aliceRoom.presence.enter({ name: 'Alice' });
      await until(() => bobRoom.presence.getSnapshot().members.some((m) => m.user === 'alice'), 'bob sees alice');
      stopWatching();

      // History: the newest two, newest first.
      const page = await bobRoom.history({ limit: 2 });
      expect(page.messages.map((m) => m.data)).toEqual([4, 3]);

      // RPC through the request path.
      await expect(bundle.rpc(alice, 'double', 21)).resolves.toBe(42);

      // Offline publishes wait in the outbox and go once the line is back.
      alice.close();
      const closed = aliceRoom.publish(5);
      await expect(closed).rejects.toMatchObject({ code: 'closed' });
      alice.connect();
      const pending = aliceRoom.publish(6);
      expect(alice.listPendingPublishes().map((p) => p.data)).toEqual([6]);
      await expect(pending).resolves.toMatchObject({ offset: 5 });
      await until(() => got.length === 5, 'bob gets 6');
      expect(got).toEqual([1, 2, 3, 4, 6]);
      expect(alice.listPendingPublishes()).toEqual([]);
    } finally {
      alice.close();
      bob.close();
    }
  });
});
