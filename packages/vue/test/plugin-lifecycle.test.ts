// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, defineComponent, h } from 'vue';
import type { App } from 'vue';
import { createTidewire, useWebSocket } from '../src/index';
import { recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.unstubAllGlobals();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 }); // a loaded machine is slow, not wrong

const Status = defineComponent({
  setup() {
    const { status } = useWebSocket({ immediate: true });
    return () => h('p', status.value);
  },
});

/** Vue 3.4's app has no `onUnmount` (added in 3.5): take it away from the installed 3.5 app. */
function asVue34(app: App): App {
  Object.defineProperty(app, 'onUnmount', { value: undefined, configurable: true });
  return app;
}

describe('the plugin closes its connection on app.unmount()', () => {
  for (const [version, prepare] of [
    ['Vue 3.5 (app.onUnmount)', (app: App) => app],
    ['Vue 3.4 (no app.onUnmount: unmount is wrapped)', asVue34],
  ] as const) {
    it(version, async () => {
      const { url, server } = await startServer();
      cleanups.push(() => server.close());
      const wire = recordingWebSocket();
      const plugin = createTidewire({ url, WebSocket: wire.WebSocket });
      const app = prepare(createApp(Status)).use(plugin);
      const el = document.createElement('div');
      app.mount(el);
      await until(() => expect(el.textContent).toBe('connected'));
      await until(() => expect(server.stats().sessions).toBe(1));
      app.unmount();
      expect(plugin.client.getSnapshot().state).toBe('closed');
      await until(() => expect(server.stats().sessions).toBe(0)); // the server saw the socket go
    });
  }

  it('leaves a client the app passed in open (its owner closes it)', async () => {
    const { url, server } = await startServer();
    cleanups.push(() => server.close());
    const owned = createTidewire({ url, WebSocket: recordingWebSocket().WebSocket }).client;
    cleanups.push(() => owned.close());
    for (const prepare of [(app: App) => app, asVue34]) {
      const app = prepare(createApp(Status)).use(createTidewire(owned));
      const el = document.createElement('div');
      app.mount(el);
      await until(() => expect(el.textContent).toBe('connected'));
      app.unmount();
      expect(owned.getSnapshot().state).toBe('connected');
    }
  });
});

describe('a relative url', () => {
  it('is resolved against the page and connects there', async () => {
    const { url, server } = await startServer();
    cleanups.push(() => server.close());
    const origin = new URL(url).origin;
    vi.stubGlobal('location', new URL(`${origin}/some/page`));
    const wire = recordingWebSocket();
    const plugin = createTidewire({ url: '/tidewire', WebSocket: wire.WebSocket });
    const app = createApp(Status).use(plugin);
    cleanups.push(() => app.unmount());
    const el = document.createElement('div');
    app.mount(el);
    await until(() => expect(el.textContent).toBe('connected'));
    expect(server.stats().sessions).toBe(1);
  });
});
