// @vitest-environment happy-dom
import type { ClientOptions } from '@tidewire/core';
import { createClient } from '@tidewire/core';
import { configure, render, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TidewireProvider, useChannel, usePresence } from '../src/index';
import { recordingWebSocket, startServer, tick, useTeardown } from './helpers';

const teardown = useTeardown();

/** A real server (users are their tokens) and a recorded client per call. */
async function setup() {
  const { server, url } = await startServer({ authenticate: ({ token }) => ({ user: token ?? null }) });
  teardown.push(() => server.close());
  const client = (token: string, options: Partial<ClientOptions> = {}) => {
    const wire = recordingWebSocket();
    const c = createClient({ url, WebSocket: wire.WebSocket, token, ...options });
    teardown.push(() => c.close());
    const wrapper = ({ children }: { children: ReactNode }) => <TidewireProvider client={c}>{children}</TidewireProvider>;
    return { client: c, wire, wrapper };
  };
  return { server, url, client };
}

describe.each([
  ['plain', false],
  ['StrictMode', true],
])('usePresence (%s) against the real server', (_mode, strict) => {
  beforeEach(() => configure({ reactStrictMode: strict }));
  afterEach(() => configure({ reactStrictMode: false }));

  it('lists who entered, one member per client however many components enter, and removes it on unmount', async () => {
    const { client } = await setup();
    const alice = client('alice');
    const bob = client('bob');
    const viewer = renderHook(() => usePresence('room:p'), { wrapper: bob.wrapper });
    await waitFor(() => expect(viewer.result.current.status).toBe('synced'));
    function Member({ id }: { id: string }) {
      const { status } = usePresence('room:p', { enter: true, info: { name: 'Alice' } });
      return <p data-testid={id} data-status={status} />;
    }
    const members = render(
      <TidewireProvider client={alice.client}>
        <Member id="a" />
        <Member id="b" />
      </TidewireProvider>,
    );
    await waitFor(() => expect(viewer.result.current.members).toEqual([{ clientId: expect.any(String), user: 'alice', info: { name: 'Alice' } }]));
    await tick(50);
    expect(viewer.result.current.members).toHaveLength(1);
    // Double mounts and two components still send one presence_subscribe and at most one enter per watch round.
    expect(alice.wire.count('presence_subscribe')).toBeLessThanOrEqual(strict ? 2 : 1);
    members.unmount();
    await waitFor(() => expect(viewer.result.current.members).toEqual([]));
  });

  it('re-enters with new info when it changes', async () => {
    const { client } = await setup();
    const alice = client('alice');
    const bob = client('bob');
    const viewer = renderHook(() => usePresence('room:q'), { wrapper: bob.wrapper });
    const member = renderHook(({ name }: { name: string }) => usePresence('room:q', { enter: true, info: { name } }), {
      wrapper: alice.wrapper,
      initialProps: { name: 'Alice' },
    });
    await waitFor(() => expect(viewer.result.current.members.map((m) => m.info)).toEqual([{ name: 'Alice' }]));
    member.rerender({ name: 'Alicia' });
    await waitFor(() => expect(viewer.result.current.members.map((m) => m.info)).toEqual([{ name: 'Alicia' }]));
  });
});

describe('useChannel with recent', () => {
  it('starts with the recent past, then live', async () => {
    const { server, client } = await setup();
    for (let i = 1; i <= 5; i++) await server.publish('room:r', i);
    const reader = client('reader');
    const { result } = renderHook(() => useChannel<number>('room:r', { recent: 3 }), { wrapper: reader.wrapper });
    await waitFor(() => expect(result.current.messages.map((m) => m.data)).toEqual([3, 4, 5]));
    await server.publish('room:r', 6);
    await waitFor(() => expect(result.current.messages.map((m) => m.data)).toEqual([3, 4, 5, 6]));
  });
});

describe('usePresence during a server render', () => {
  it('renders idle with no members and opens nothing', async () => {
    const wire = recordingWebSocket();
    function Who() {
      const { status, members } = usePresence('room:ssr', { enter: true });
      return <p>{`presence=${status} members=${members.length}`}</p>;
    }
    const html = renderToString(
      <StrictMode>
        <TidewireProvider options={{ url: 'ws://127.0.0.1:9/tidewire', WebSocket: wire.WebSocket }}>
          <Who />
        </TidewireProvider>
      </StrictMode>,
    );
    expect(html).toBe('<p>presence=idle members=0</p>');
    await tick(20);
    expect(wire.sockets).toHaveLength(0);
  });
});
