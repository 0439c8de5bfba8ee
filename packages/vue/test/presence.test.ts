// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Client } from '@tidewire/core';
import { renderToString } from '@vue/server-renderer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSSRApp, defineComponent, h, reactive, ref } from 'vue';
import { createTidewire, useChannel, usePresence } from '../src/index';
import { nodeClient, recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 }); // an outcome, not a speed, is under test

async function setup() {
  const srv = await startServer({ heartbeat: 5000, authenticate: ({ token }) => ({ user: token ?? null }) });
  cleanups.push(() => srv.server.close());
  const client = (token: string) => {
    const made = nodeClient(srv.url, { token });
    cleanups.push(() => made.client.close());
    return made;
  };
  return { ...srv, client };
}

function mountWith(client: Client, component: ReturnType<typeof defineComponent>): VueWrapper {
  const wrapper = mount(component, { global: { plugins: [createTidewire(client)] } });
  cleanups.push(() => wrapper.unmount());
  return wrapper;
}

/** Renders `status|user:name,…` of a channel's members. */
const Who = defineComponent({
  setup() {
    const { members, status } = usePresence('room:v');
    return () => h('p', `${status.value}|${members.value.map((m) => `${String(m.user)}:${String((m.info as { name?: string } | undefined)?.name)}`).join(',')}`);
  },
});

describe('usePresence against the real server', () => {
  it('shows members; entering components are one member per client; info changes re-enter; unmount leaves', async () => {
    const { client } = await setup();
    const viewer = mountWith(client('bob').client, Who);
    await until(() => expect(viewer.text()).toBe('synced|'));
    const name = ref('Alice');
    const Member = defineComponent({
      setup() {
        usePresence('room:v', { enter: true, info: () => ({ name: name.value }) });
        usePresence(() => 'room:v', { enter: true, info: () => ({ name: name.value }) }); // a second holder: still one member
        return () => h('span');
      },
    });
    const alice = client('alice');
    const member = mount(Member, { global: { plugins: [createTidewire(alice.client)] } });
    await until(() => expect(viewer.text()).toBe('synced|alice:Alice'));
    name.value = 'Alicia';
    await until(() => expect(viewer.text()).toBe('synced|alice:Alicia'));
    member.unmount();
    await until(() => expect(viewer.text()).toBe('synced|'));
  });

  it('useChannel with recent starts with the recent past, then live', async () => {
    const { server, client } = await setup();
    for (let i = 1; i <= 6; i++) await server.publish('metrics:r', i);
    const Recent = defineComponent({
      setup() {
        const { messages } = useChannel<number>('metrics:r', { recent: 4 });
        return () => h('p', messages.value.map((m) => m.data).join(','));
      },
    });
    const w = mountWith(client('reader').client, Recent);
    await until(() => expect(w.text()).toBe('3,4,5,6'));
    await server.publish('metrics:r', 7);
    await until(() => expect(w.text()).toBe('3,4,5,6,7'));
  });
});

describe('usePresence during a server render', () => {
  it('renders idle with no members and opens nothing', async () => {
    const wire = recordingWebSocket();
    const Entering = defineComponent({
      setup() {
        const { status, members } = usePresence('room:ssr', { enter: true });
        return () => h('p', `${status.value}|${members.value.length}`);
      },
    });
    const plugin = createTidewire({ url: 'ws://127.0.0.1:9/tidewire', WebSocket: wire.WebSocket });
    const html = await renderToString(createSSRApp(Entering).use(plugin));
    expect(html).toBe('<p>idle|0</p>');
    await new Promise((r) => setTimeout(r, 50));
    expect(wire.opened).toBe(0);
  });
});

/** PresenceView compares a new `info` with the JSON it last entered with, not with the previous options' object (mutated in place, it equals itself). */
describe('usePresence info changed in place (Vue)', () => {
  it.each([
    ['a reactive() object mutated in place', () => {
      const info = reactive({ name: 'Alice' });
      return { info, rename: (n: string): void => void (info.name = n) };
    }],
    ['a ref of an object whose property is set', () => {
      const info = ref({ name: 'Alice' });
      return { info, rename: (n: string): void => void (info.value.name = n) };
    }],
  ])('a new info value given as %s enters again with it (vue.md: "a new info (compared deeply) enters again")', async (_what, make) => {
    const { client } = await setup();
    const viewer = mountWith(client('bob').client, Who);
    await until(() => expect(viewer.text()).toBe('synced|'));
    const { info, rename } = make();
    mountWith(
      client('alice').client,
      defineComponent({
        setup() {
          usePresence('room:v', { enter: true, info });
          return () => h('span');
        },
      }),
    );
    await until(() => expect(viewer.text()).toBe('synced|alice:Alice'));
    rename('Alicia');
    await until(() => expect(viewer.text()).toBe('synced|alice:Alicia'));
  });
});
