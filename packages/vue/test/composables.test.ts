// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Client, ConnectionStateName } from '@tidewire/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApp, defineComponent, effectScope, h, nextTick, ref, watch } from 'vue';
import type { Ref } from 'vue';
import { createTidewire, useChannel, useWebSocket } from '../src/index';
import { nodeClient, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup() {
  const srv = await startServer({ heartbeat: 5000 });
  const { client, wire } = nodeClient(srv.url);
  cleanups.push(() => srv.server.close(), () => client.close());
  return { ...srv, client, wire };
}

/** A component that shows one channel's latest value, its status and how many messages it kept. */
const Ticker = defineComponent({
  props: { name: { type: String, required: true } },
  setup(props) {
    const { data, status, messages } = useChannel<number>(() => props.name, { history: 3 });
    return () => h('p', `${status.value}|${String(data.value)}|${messages.value.length}`);
  },
});

function mountWith<P extends Record<string, unknown>>(client: Client, component: ReturnType<typeof defineComponent>, props?: P): VueWrapper {
  const wrapper = mount(component, { props, global: { plugins: [createTidewire(client)] } });
  cleanups.push(() => wrapper.unmount());
  return wrapper;
}

const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 }); // generous: a loaded machine is slow, not wrong
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('useChannel against the real server', () => {
  it('subscribes and renders live values', async () => {
    const { server, client } = await setup();
    const w = mountWith(client, Ticker, { name: 'metrics:cpu' });
    await until(() => expect(w.text()).toBe('subscribed|undefined|0'));
    for (const v of [1, 2, 3, 4]) await server.publish('metrics:cpu', v);
    await until(() => expect(w.text()).toBe('subscribed|4|3'));
  });

  it('publish round trip resolves with the stored position and is delivered back', async () => {
    const { client } = await setup();
    let publish!: (data: string) => Promise<{ offset: number }>;
    const Chat = defineComponent({
      setup() {
        const channel = useChannel<string>('room:1');
        publish = channel.publish;
        return () => h('p', channel.messages.value.map((m) => m.data).join(','));
      },
    });
    const w = mountWith(client, Chat);
    const first = await publish('hello');
    const second = await publish('world');
    expect(second.offset).toBe(first.offset + 1);
    await until(() => expect(w.text()).toBe('hello,world'));
  });

  it('a changed channel name resubscribes and drops the old channel', async () => {
    const { server, client, wire, subscribes } = await setup();
    const name = ref('ticker:A');
    const Dyn = defineComponent({
      setup() {
        const { data, status } = useChannel<number>(name);
        return () => h('p', `${status.value}|${String(data.value)}`);
      },
    });
    const w = mountWith(client, Dyn);
    await until(() => expect(w.text()).toBe('subscribed|undefined'));
    await server.publish('ticker:A', 1);
    await until(() => expect(w.text()).toBe('subscribed|1'));

    name.value = 'ticker:B';
    await until(() => expect(w.text()).toBe('subscribed|undefined'));
    await until(() => expect(wire.framesOf('unsubscribe')).toEqual([{ type: 'unsubscribe', channel: 'ticker:A' }]));
    await server.publish('ticker:A', 2);
    await server.publish('ticker:B', 10);
    await until(() => expect(w.text()).toBe('subscribed|10'));
    expect(subscribes).toEqual(['ticker:A', 'ticker:B']);
  });

  it('two components share one subscription; unmounting one keeps the other live', async () => {
    const { server, client, wire, subscribes } = await setup();
    const Pair = defineComponent({
      setup() {
        const show = ref(true);
        return { show };
      },
      render() {
        return h('div', [this.show ? h(Ticker, { name: 'metrics:mem', id: 'a' }) : null, h(Ticker, { name: 'metrics:mem', id: 'b' })]);
      },
    });
    const w = mountWith(client, Pair);
    await until(() => expect(w.findAll('p').map((p) => p.text())).toEqual(['subscribed|undefined|0', 'subscribed|undefined|0']));
    await server.publish('metrics:mem', 1);
    await until(() => expect(w.findAll('p').map((p) => p.text())).toEqual(['subscribed|1|1', 'subscribed|1|1']));
    expect(subscribes).toEqual(['metrics:mem']);
    expect(wire.framesOf('subscribe')).toHaveLength(1);

    (w.vm as unknown as { show: boolean }).show = false;
    await nextTick();
    expect(w.findAll('p')).toHaveLength(1);
    await tick();
    await server.publish('metrics:mem', 2);
    await until(() => expect(w.find('p').text()).toBe('subscribed|2|2'));
    expect(wire.framesOf('unsubscribe')).toHaveLength(0);
    expect(wire.framesOf('subscribe')).toHaveLength(1);
  });

  it('disposing an effectScope releases everything: one unsubscribe on the wire after a tick', async () => {
    const { server, client, wire } = await setup();
    const app = createApp({ render: () => null }).use(createTidewire(client));
    const scope = effectScope();
    const values: Ref<number | undefined>[] = [];
    app.runWithContext(() =>
      scope.run(() => {
        values.push(useChannel<number>('metrics:cpu').data, useChannel<number>('metrics:cpu').data);
      }),
    );
    await until(() => expect(wire.framesOf('subscribe')).toHaveLength(1));
    await until(async () => {
      await server.publish('metrics:cpu', 7);
      expect(values.map((v) => v.value)).toEqual([7, 7]);
    });

    scope.stop();
    expect(wire.framesOf('unsubscribe')).toHaveLength(0); // released one tick late, not synchronously
    await until(() => expect(wire.framesOf('unsubscribe')).toEqual([{ type: 'unsubscribe', channel: 'metrics:cpu' }]));
    await server.publish('metrics:cpu', 8);
    await tick();
    expect(values.map((v) => v.value)).toEqual([7, 7]); // the refs are no longer fed
    expect(wire.framesOf('subscribe')).toHaveLength(1);
  });

  it('immediate: false holds nothing until open(); close() releases', async () => {
    const { client, wire } = await setup();
    const app = createApp({ render: () => null }).use(createTidewire(client));
    const scope = effectScope();
    const channel = app.runWithContext(() => scope.run(() => useChannel<number>('lazy:1', { immediate: false })))!;
    await tick();
    expect(channel.status.value).toBe('idle');
    expect(wire.opened).toBe(0);
    channel.open();
    await until(() => expect(channel.status.value).toBe('subscribed'));
    channel.close();
    expect(channel.status.value).toBe('idle');
    await until(() => expect(wire.framesOf('unsubscribe')).toHaveLength(1));
    scope.stop();
  });
});

describe('useWebSocket', () => {
  it('reflects the connection state transitions and the transport', async () => {
    const { client } = await setup();
    const seen: ConnectionStateName[] = [];
    let api!: ReturnType<typeof useWebSocket>;
    const Indicator = defineComponent({
      setup() {
        api = useWebSocket();
        watch(api.status, (s) => seen.push(s), { flush: 'sync' });
        return () => h('p', `${api.status.value}|${api.transport.value ?? '-'}`);
      },
    });
    const w = mountWith(client, Indicator);
    expect(w.text()).toBe('idle|-');
    api.open();
    await until(() => expect(w.text()).toBe('connected|websocket'));

    client.disconnectTransport('test drop');
    await until(() => expect(api.status.value).toBe('reconnecting'));
    expect(api.error.value?.message).toBe('test drop');
    client.checkConnection(); // like `online`: retry now
    await until(() => expect(w.text()).toBe('connected|websocket'));

    api.close();
    await until(() => expect(w.text()).toBe('closed|-'));
    await expect(api.publish('x', 1)).rejects.toMatchObject({ code: 'closed' });
    expect(seen).toEqual(['connecting', 'connected', 'reconnecting', 'connecting', 'connected', 'closed']);
  });

  it('the plugin creates its client lazily from options and closes it with the app', async () => {
    const { url, server } = await startServer();
    cleanups.push(() => server.close());
    const plugin = createTidewire({ url, WebSocket: nodeClient(url).wire.WebSocket });
    const app = createApp(
      defineComponent({
        setup() {
          const { status } = useWebSocket({ immediate: true });
          return () => h('p', status.value);
        },
      }),
    ).use(plugin);
    const el = document.createElement('div');
    app.mount(el);
    await until(() => expect(el.textContent).toBe('connected'));
    app.unmount();
    expect(plugin.client.getSnapshot().state).toBe('closed');
  });

  it('throws a helpful error without a provided client', () => {
    const Orphan = defineComponent({
      setup() {
        useChannel('x');
        return () => null;
      },
    });
    expect(() => mount(Orphan)).toThrow(/createTidewire/);
  });
});
