// @vitest-environment happy-dom
import { BroadcastChannel as NodeBroadcastChannel } from 'node:worker_threads';
import { mount } from '@vue/test-utils';
import { createSharedClient, inProcessLocks } from '@tidewire/core/shared';
import type { SharedClient } from '@tidewire/core/shared';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { createTidewire, useChannel, usePresence, useWebSocket } from '../src/index';
import { recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const until = (fn: () => unknown) => vi.waitFor(fn, { timeout: 15_000, interval: 10 }); // an outcome, not a speed, is under test

describe('the Vue composables with a shared client', () => {
  it('useChannel, usePresence and useWebSocket work in a tab that does not hold the connection; the tabs use one', async () => {
    const srv = await startServer({ heartbeat: 5000, authenticate: ({ token }) => ({ user: token ?? null }) });
    cleanups.push(() => srv.server.close());
    const locks = inProcessLocks();
    const wire = recordingWebSocket();
    const tab = (): SharedClient => {
      const client = createSharedClient({
        url: srv.url,
        token: 'bob',
        WebSocket: wire.WebSocket,
        mode: 'leader',
        name: `vue-${srv.url}`,
        locks,
        BroadcastChannel: NodeBroadcastChannel as unknown as typeof BroadcastChannel,
      });
      cleanups.push(() => client.close());
      return client;
    };
    const leader = tab();
    await until(() => expect(leader.isLeader).toBe(true));
    const follower = tab();
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
