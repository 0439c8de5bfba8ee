// @vitest-environment happy-dom
import { BroadcastChannel as NodeBroadcastChannel } from 'node:worker_threads';
import { createSharedClient, inProcessLocks } from '@tidewire/core/shared';
import type { SharedClient } from '@tidewire/core/shared';
import { renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { TidewireProvider, useChannel, useConnectionState, usePresence } from '../src/index';
import { recordingWebSocket, startServer, useTeardown } from './helpers';

const teardown = useTeardown();

/** Two "tabs" in one process: shared clients electing a leader over in-process locks and Node's BroadcastChannel. */
async function setup() {
  const { server, url } = await startServer({ authenticate: ({ token }) => ({ user: token ?? null }) });
  teardown.push(() => server.close());
  const locks = inProcessLocks();
  const wire = recordingWebSocket();
  const tab = (): SharedClient => {
    const client = createSharedClient({
      url,
      token: 'alice',
      WebSocket: wire.WebSocket,
      mode: 'leader',
      name: `react-${url}`,
      locks,
      BroadcastChannel: NodeBroadcastChannel as unknown as typeof BroadcastChannel,
    });
    teardown.push(() => client.close());
    return client;
  };
  const wrapper =
    (client: SharedClient) =>
    ({ children }: { children: ReactNode }) => <TidewireProvider client={client}>{children}</TidewireProvider>;
  return { server, tab, wrapper, wire };
}

describe('the React hooks with a shared client', () => {
  it('useChannel, usePresence and useConnectionState work in a tab that does not hold the connection; the tabs use one', async () => {
    const { server, tab, wrapper, wire } = await setup();
    const leader = tab();
    await waitFor(() => expect(leader.isLeader).toBe(true));
    const follower = tab();
    const hook = renderHook(
      () => ({
        room: useChannel<string>('room:s'),
        presence: usePresence('room:s', { enter: true, info: { name: 'Follower' } }),
        connection: useConnectionState(),
      }),
      { wrapper: wrapper(follower) },
    );
    await waitFor(() => expect(hook.result.current.connection.state).toBe('connected'));
    await waitFor(() => expect(hook.result.current.room.status).toBe('subscribed'));
    await server.publish('room:s', 'from the server');
    await waitFor(() => expect(hook.result.current.room.messages.map((m) => m.data)).toEqual(['from the server']));
    await hook.result.current.room.publish('from the follower');
    await waitFor(() => expect(hook.result.current.room.messages.map((m) => m.data)).toEqual(['from the server', 'from the follower']));
    await waitFor(() => expect(hook.result.current.presence.members).toEqual([{ clientId: expect.any(String), user: 'alice', info: { name: 'Follower' } }]));
    expect(follower.isLeader).toBe(false);
    expect(wire.sockets).toHaveLength(1); // the leader's, for both tabs
    expect(server.stats().sessions).toBe(1);

    hook.unmount(); // leaves the channel's presence: the connection is no member any more
    const viewer = renderHook(() => usePresence('room:s'), { wrapper: wrapper(leader) });
    await waitFor(() => expect(viewer.result.current.status).toBe('synced'));
    await waitFor(() => expect(viewer.result.current.members).toEqual([]));
  });
});
