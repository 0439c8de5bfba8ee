// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import type { Client } from '@tidewire/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, reactive, ref } from 'vue';
import { createTidewire, usePresence } from '../src/index';
import { nodeClient, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 });

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

const Who = defineComponent({
  setup() {
    const { members, status } = usePresence('room:bd');
    return () => h('p', `${status.value}|${members.value.map((m) => `${String(m.user)}:${String((m.info as { name?: string } | undefined)?.name)}`).join(',')}`);
  },
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
          usePresence('room:bd', { enter: true, info });
          return () => h('span');
        },
      }),
    );
    await until(() => expect(viewer.text()).toBe('synced|alice:Alice'));
    rename('Alicia');
    await until(() => expect(viewer.text()).toBe('synced|alice:Alicia'));
  });
});
