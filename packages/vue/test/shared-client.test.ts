// @vitest-environment happy-dom
import { BroadcastChannel as NodeBroadcastChannel } from 'node:worker_threads';
import { mount } from '@vue/test-utils';
import { createSharedClient, inProcessLocks } from '@tidewire/core/shared';
import type { SharedClient } from '@tidewire/core/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, reactive } from 'vue';
import { createTidewire, useChannel, usePresence, useWebSocket } from '../src/index';
import type { TidewireClient } from '@tidewire/core';
import { nodeClient, recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 }); // an outcome, not a speed, is under test

/** A leader and a follower tab of one shared connection to `url` (the follower does not hold it), on a recording WebSocket. */
async function leaderAndFollower(url: string, token?: string) {
  const locks = inProcessLocks();
  const wire = recordingWebSocket();
  const tab = (): SharedClient => {
    const client = createSharedClient({
      url,
      ...(token !== undefined && { token }),
      WebSocket: wire.WebSocket,
      mode: 'leader',
      name: `vue-${url}`,
      locks,
      BroadcastChannel: NodeBroadcastChannel as unknown as typeof BroadcastChannel,
    });
    cleanups.push(() => client.close());
    return client;
  };
  const leader = tab();
  await until(() => expect(leader.isLeader).toBe(true));
  return { leader, follower: tab(), wire };
}

describe('the Vue composables with a shared client', () => {
  it('useChannel, usePresence and useWebSocket work in a tab that does not hold the connection; the tabs use one', async () => {
    const srv = await startServer({ heartbeat: 5000, authenticate: ({ token }) => ({ user: token ?? null }) });
    cleanups.push(() => srv.server.close());
    const { follower, wire } = await leaderAndFollower(srv.url, 'bob');
    const Room = defineComponent({
      setup() {
        const { messages, publish } = useChannel<string>('room:vs');
        const { members } = usePresence('room:vs', { enter: true, info: { name: 'Bob' } });
        const { status } = useWebSocket();
        return { messages, publish, members, status };
      },
      render() {
        return h('p', `${this.status}|${this.messages.map((m) => m.data).join(',')}|${this.members.map((m) => `${String(m.user)}:${(m.info as { name: string }).name}`).join(',')}`);
      },
    });
    const wrapper = mount(Room, { global: { plugins: [createTidewire(follower)] } });
    cleanups.push(() => wrapper.unmount());
    await until(() => expect(wrapper.text()).toBe('connected||bob:Bob'));
    await until(async () => {
      await srv.server.publish('room:vs', 'hello');
      expect(wrapper.text()).toContain('|hello');
    });
    await (wrapper.vm as unknown as { publish(data: string): Promise<unknown> }).publish('from vue');
    await until(() => expect(wrapper.text()).toMatch(/\|(hello,)+from vue\|bob:Bob$/));
    expect(follower.isLeader).toBe(false);
    expect(wire.opened).toBe(1); // the leader's, for both tabs
    expect(srv.server.stats().sessions).toBe(1);
  });
});

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
    const { follower } = await leaderAndFollower(srv.url);
    expect(await publishReactiveThrough(follower)).toEqual({ acked: true });
  });

  it('a follower tab mounts a component entering presence with a reactive() info', async () => {
    const srv = await startServer({ heartbeat: 5000, authenticate: ({ token }) => ({ user: token ?? null }) });
    cleanups.push(() => srv.server.close());
    const { follower } = await leaderAndFollower(srv.url, 'bob');
    const info = reactive({ name: 'Bob' });
    const Member = defineComponent({
      setup() {
        const { members } = usePresence('room:rp', { enter: true, info });
        return () => h('p', members.value.map((m) => `${String(m.user)}:${(m.info as { name: string }).name}`).join(','));
      },
    });
    const mounted = mount(Member, { global: { plugins: [createTidewire(follower)] } });
    cleanups.push(() => mounted.unmount());
    await until(() => expect(mounted.text()).toBe('bob:Bob'));
  });
});
