// @vitest-environment node
import { renderToString } from '@vue/server-renderer';
import { afterEach, expect, it } from 'vitest';
import { createSSRApp, defineComponent, h } from 'vue';
import { createTidewire, useChannel, useWebSocket } from '../src/index';
import { recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const Dashboard = defineComponent({
  setup() {
    const cpu = useChannel<number>('metrics:cpu');
    const { status, transport } = useWebSocket({ immediate: true });
    return () => h('main', [h('p', { id: 'conn' }, `${status.value}|${transport.value ?? '-'}`), h('p', { id: 'cpu' }, `${cpu.status.value}|${String(cpu.data.value)}`)]);
  },
});

it('renders the idle state in plain Node and opens no connection', async () => {
  expect(typeof window).toBe('undefined');
  const { server, url } = await startServer();
  cleanups.push(() => server.close());
  await server.publish('metrics:cpu', 42);
  const wire = recordingWebSocket();
  const plugin = createTidewire({ url, WebSocket: wire.WebSocket });
  const html = await renderToString(createSSRApp(Dashboard).use(plugin));
  expect(html).toBe('<main><p id="conn">idle|-</p><p id="cpu">idle|undefined</p></main>');
  await new Promise((r) => setTimeout(r, 50));
  expect(wire.opened).toBe(0);
  expect(plugin.client.getSnapshot().state).toBe('idle');
  expect(server.stats().sessions).toBe(0);
});

it('works without a url on the server (the default /tidewire is only resolved in a browser)', async () => {
  const html = await renderToString(createSSRApp(Dashboard).use(createTidewire()));
  expect(html).toContain('idle|-');
});
