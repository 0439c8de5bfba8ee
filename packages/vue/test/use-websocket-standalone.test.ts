// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import type { TransportFactory } from '@tidewire/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, effectScope, h, ref } from 'vue';
import { createTidewire, useWebSocket } from '../src/index';
import type { UseWebSocketReturn } from '../src/index';
import { nodeClient, recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 }); // generous: a loaded machine is slow, not wrong

async function server() {
  // happy-dom's fetch is a browser's: SSE and long polling are cross-origin requests to the test server.
  const srv = await startServer({ heartbeat: 5000, allowedOrigins: ['*'] });
  cleanups.push(() => srv.server.close());
  return srv;
}

describe('useWebSocket(url) — standalone, as VueUse users expect', () => {
  it('needs no plugin: connects at once, data is the channel’s latest message, send publishes with an ack, unmount closes', async () => {
    const { url, server: tidewire } = await server();
    let api!: UseWebSocketReturn<number>;
    const Live = defineComponent({
      setup() {
        api = useWebSocket<number>(url, { channel: 'ticks', WebSocket: recordingWebSocket().WebSocket });
        return () => h('p', `${api.status.value}|${String(api.data.value)}`);
      },
    });
    const w = mount(Live); // no createTidewire plugin anywhere
    await until(() => expect(w.text()).toBe('connected|undefined'));
    await until(() => expect(tidewire.stats().channels).toBe(1)); // subscribed
    await tidewire.publish('ticks', 1);
    await until(() => expect(w.text()).toBe('connected|1'));
    const receipt = await api.send(2);
    expect(receipt.offset).toBe(2);
    await until(() => expect(w.text()).toBe('connected|2'));
    const client = api.client;
    w.unmount();
    expect(client.getSnapshot().state).toBe('closed');
  });

  it.each<[string, () => TransportFactory]>([
    ['sse', () => sse()],
    ['longpoll', () => longpoll()],
  ])('takes client options: the same live data over %s', async (name, transport) => {
    const { url, server: tidewire } = await server();
    const scope = effectScope();
    const api = scope.run(() => useWebSocket<string>(url.replace('ws://', 'http://'), { channel: 'news', transports: [transport()] }))!;
    cleanups.push(() => scope.stop());
    await until(() => expect(api.status.value).toBe('connected'));
    expect(api.transport.value).toBe(name);
    await until(() => expect(tidewire.stats().channels).toBe(1)); // subscribed
    await tidewire.publish('news', `over ${name}`);
    await until(() => expect(api.data.value).toBe(`over ${name}`));
  });

  it('immediate: false waits for open(); autoClose: false outlives the scope; close() then open() reconnects', async () => {
    const { url } = await server();
    const scope = effectScope();
    const api = scope.run(() => useWebSocket(url, { immediate: false, autoClose: false, WebSocket: recordingWebSocket().WebSocket }))!;
    cleanups.push(() => api.close());
    expect(api.status.value).toBe('idle');
    api.open();
    await until(() => expect(api.status.value).toBe('connected'));
    scope.stop();
    expect(api.client.getSnapshot().state).toBe('connected');
    api.close();
    expect(api.client.getSnapshot().state).toBe('closed');
    api.open();
    await until(() => expect(api.client.getSnapshot().state).toBe('connected'));
  });

  it('a channel ref switches what data shows; send without a channel rejects with a TypeError', async () => {
    const { url, server: tidewire } = await server();
    const channel = ref('a');
    const scope = effectScope();
    const api = scope.run(() => useWebSocket<string>(url, { channel, WebSocket: recordingWebSocket().WebSocket }))!;
    const bare = scope.run(() => useWebSocket(url, { WebSocket: recordingWebSocket().WebSocket }))!;
    cleanups.push(() => scope.stop());
    await until(() => expect(tidewire.stats().channels).toBe(1));
    await tidewire.publish('a', 'from a');
    await until(() => expect(api.data.value).toBe('from a'));
    channel.value = 'b';
    await until(async () => {
      await tidewire.publish('b', 'from b');
      expect(api.data.value).toBe('from b');
    });
    await expect(bare.send('x')).rejects.toBeInstanceOf(TypeError);
    expect(bare.data.value).toBeUndefined();
  });

  it('with the plugin, the channel option gives data and send on the shared client', async () => {
    const { url, server: tidewire } = await server();
    const { client } = nodeClient(url);
    cleanups.push(() => client.close());
    let api!: UseWebSocketReturn<number>;
    const Live = defineComponent({
      setup() {
        api = useWebSocket<number>({ channel: 'counts' });
        return () => h('p', String(api.data.value));
      },
    });
    const w = mount(Live, { global: { plugins: [createTidewire(client)] } });
    cleanups.push(() => w.unmount());
    expect(api.client).toBe(client);
    await until(() => expect(tidewire.stats().channels).toBe(1));
    await api.send(7);
    await until(() => expect(w.text()).toBe('7'));
  });
});
