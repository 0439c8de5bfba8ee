// @vitest-environment happy-dom
import { renderToString } from '@vue/server-renderer';
import { afterEach, expect, it, vi } from 'vitest';
import { createSSRApp, defineComponent, h } from 'vue';
import { createTidewire, useChannel, useWebSocket } from '../src/index';
import { recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const Dashboard = defineComponent({
  setup() {
    const cpu = useChannel<number>('metrics:cpu');
    const { status } = useWebSocket();
    return () => h('main', [h('p', { id: 'conn' }, status.value), h('p', { id: 'cpu' }, `${cpu.status.value}|${String(cpu.data.value)}`)]);
  },
});

it('renderToString opens nothing even where a DOM exists, and hydration matches before going live', async () => {
  const { server, url } = await startServer();
  cleanups.push(() => server.close());

  // Server side (a DOM is shimmed here, yet the SSR context tells us we are rendering on the server).
  const serverWire = recordingWebSocket();
  const html = await renderToString(createSSRApp(Dashboard).use(createTidewire({ url, WebSocket: serverWire.WebSocket })));
  expect(html).toBe('<main><p id="conn">idle</p><p id="cpu">idle|undefined</p></main>');
  expect(serverWire.opened).toBe(0);

  // Client side: hydrate the same markup without a mismatch, then go live.
  const warn = vi.spyOn(console, 'warn');
  const error = vi.spyOn(console, 'error');
  const el = document.createElement('div');
  el.innerHTML = html;
  const clientWire = recordingWebSocket();
  const plugin = createTidewire({ url, WebSocket: clientWire.WebSocket });
  const app = createSSRApp(Dashboard).use(plugin);
  cleanups.push(() => app.unmount());
  app.mount(el);
  expect([...warn.mock.calls, ...error.mock.calls].flat().join('\n')).not.toMatch(/mismatch/i);
  await vi.waitFor(() => expect(el.querySelector('#cpu')?.textContent).toBe('subscribed|undefined'), { timeout: 15_000 });
  expect(el.querySelector('#conn')?.textContent).toBe('connected');
  await server.publish('metrics:cpu', 5);
  await vi.waitFor(() => expect(el.querySelector('#cpu')?.textContent).toBe('subscribed|5'), { timeout: 15_000 });
  expect(clientWire.opened).toBe(1);
});
