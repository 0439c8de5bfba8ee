// @vitest-environment happy-dom
import { BroadcastChannel as NodeBroadcastChannel } from 'node:worker_threads';
import { mount } from '@vue/test-utils';
import { createSharedClient, inProcessLocks } from '@tidewire/core/shared';
import type { SharedClient } from '@tidewire/core/shared';
import type { TidewireClient } from '@tidewire/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, reactive } from 'vue';
import { createTidewire, useChannel, usePresence } from '../src/index';
import { nodeClient, recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 });

/** Publishes a Vue reactive() form object (as a chat's `reactive({ text })` draft) through useChannel. */
async function publishReactiveThrough(client: TidewireClient) {
  let publish!: (data: { text: string }) => Promise<unknown>;
  const Room = defineComponent({
    setup() {
      ({ publish } = useChannel<{ text: string }>('room:reactive'));
      return () => h('p');
    },
  });
  const wrapper = mount(Room, { global: { plugins: [createTidewire(client)] } });
  cleanups.push(() => wrapper.unmount());
  const draft = reactive({ text: 'hello' });
  try {
    return await publish(draft).then((ack) => ({ acked: (ack as { offset: number }).offset > 0 }), (error: { code?: string; name?: string }) => ({ rejected: error.code ?? error.name }));
  } catch (error) {
    return { threwSynchronously: (error as Error).name };
  }
}

/**
 * A Vue `reactive()` object is a Proxy, which structured clone (BroadcastChannel, MessagePort)
 * refuses: a follower tab sends it as its JSON form, as a private client does (shared-messages.ts
 * `postClonable`), instead of throwing DataCloneError from `publish` or from `enter` on mount.
 */
describe('Vue reactive data through a shared client', () => {
  it('reference: a private client publishes a reactive() object', async () => {
    const srv = await startServer({ heartbeat: 5000 });
    cleanups.push(() => srv.server.close());
    const { client } = nodeClient(srv.url);
    cleanups.push(() => client.close());
    expect(await publishReactiveThrough(client)).toEqual({ acked: true });
  });

  it('a follower tab of a shared client publishes a reactive() object as a private client does', async () => {
    const srv = await startServer({ heartbeat: 5000 });
    cleanups.push(() => srv.server.close());
    const locks = inProcessLocks();
    const wire = recordingWebSocket();
    const tab = (): SharedClient => {
      const client = createSharedClient({
        url: srv.url,
        WebSocket: wire.WebSocket,
        mode: 'leader',
        name: `vue-shared-reactive-${srv.url}`,
        locks,
        BroadcastChannel: NodeBroadcastChannel as unknown as typeof BroadcastChannel,
      });
      cleanups.push(() => client.close());
      return client;
    };
    const leader = tab();
    await until(() => expect(leader.isLeader).toBe(true));
    const follower = tab();
    expect(await publishReactiveThrough(follower)).toEqual({ acked: true });
  });

  it('a follower tab mounts a component entering presence with a reactive() info', async () => {
    const srv = await startServer({ heartbeat: 5000, authenticate: ({ token }) => ({ user: token ?? null }) });
    cleanups.push(() => srv.server.close());
    const locks = inProcessLocks();
    const tab = (): SharedClient => {
      const client = createSharedClient({
        url: srv.url,
        token: 'bob',
        WebSocket: recordingWebSocket().WebSocket,
        mode: 'leader',
        name: `vue-shared-reactive2-${srv.url}`,
        locks,
        BroadcastChannel: NodeBroadcastChannel as unknown as typeof BroadcastChannel,
      });
      cleanups.push(() => client.close());
      return client;
    };
    const leader = tab();
    await until(() => expect(leader.isLeader).toBe(true));
    const follower = tab();
    const info = reactive({ name: 'Bob' });
    const Member = defineComponent({
      setup() {
        const { members } = usePresence('room:rp', { enter: true, info });
        return () => h('p', members.value.map((m) => `${String(m.user)}:${(m.info as { name: string }).name}`).join(','));
      },
    });
    let mounted: ReturnType<typeof mount> | undefined;
    let threw: string | undefined;
    try {
      mounted = mount(Member, { global: { plugins: [createTidewire(follower)] } });
      cleanups.push(() => mounted!.unmount());
    } catch (error) {
      threw = (error as Error).name;
    }
    expect(threw).toBeUndefined();
    await until(() => expect(mounted!.text()).toBe('bob:Bob'));
  });
});
