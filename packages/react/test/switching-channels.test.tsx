// @vitest-environment happy-dom
import { createClient } from '@tidewire/core';
import { act, render, screen, waitFor } from '@testing-library/react';
import { StrictMode, useState, type ReactElement } from 'react';
import { describe, expect, it } from 'vitest';
import { TidewireProvider, useChannel, usePresence } from '../src/index';
import { recordingWebSocket, startServer, useTeardown } from './helpers';

/**
 * react.md: changing the name, `messages` "starts empty for the new name and never mixes the two".
 * A view takes a new name in an effect, after the render that brought it; every render committed
 * for the new name (or for none) is recorded here from the DOM, in StrictMode, and none may show
 * the old channel's messages or members. (`renderHook`'s `rerender` flushes effects inside `act`,
 * so it cannot see such a render.)
 */
const teardown = useTeardown();

async function setup() {
  const { server, url } = await startServer();
  const client = createClient({ url, WebSocket: recordingWebSocket().WebSocket });
  teardown.push(() => server.close(), () => client.close());
  return { server, client };
}

/** Mounts `Component` under StrictMode with a room name the test switches; records the DOM of every commit. */
function mountSwitching(Component: (props: { name: string | null; commit: (dom: string) => void }) => ReactElement, client: ReturnType<typeof createClient>) {
  const commits: { name: string | null; dom: string }[] = [];
  let setRoom!: (room: string | null) => void;
  function App() {
    const [room, set] = useState<string | null>('room:a');
    setRoom = set;
    return <Component name={room} commit={(dom) => commits.push({ name: room, dom })} />;
  }
  render(
    <StrictMode>
      <TidewireProvider client={client}>
        <App />
      </TidewireProvider>
    </StrictMode>,
  );
  return { commits, switchTo: (room: string | null) => act(() => setRoom(room)) };
}

describe('switching the channel of a hook never shows the old one under the new name', () => {
  it.each([['room:b'], [null]])('useChannel: room:a → %s', async (next) => {
    const { server, client } = await setup();
    const { commits, switchTo } = mountSwitching(({ name, commit }) => {
      const { messages, status } = useChannel<string>(name);
      return (
        <div data-testid="room" ref={(el) => void (el && commit(el.textContent ?? ''))}>
          {status}:{messages.map((m) => `${m.channel}/${m.data};`)}
        </div>
      );
    }, client);
    await waitFor(() => expect(screen.getByTestId('room').textContent).toBe('subscribed:'));
    await server.publish('room:a', 'secret-a');
    await waitFor(() => expect(screen.getByTestId('room').textContent).toContain('room:a/secret-a'));
    switchTo(next);
    if (next) {
      await waitFor(() => expect(screen.getByTestId('room').textContent).toBe('subscribed:'));
      await server.publish(next, 'hello-b');
      await waitFor(() => expect(screen.getByTestId('room').textContent).toBe('subscribed:room:b/hello-b;'));
    } else await waitFor(() => expect(screen.getByTestId('room').textContent).toBe('idle:'));
    expect(commits.filter((c) => c.name === next && c.dom.includes('secret-a'))).toEqual([]);
  });

  it.each([['room:b'], [null]])('usePresence: room:a → %s', async (next) => {
    const { client } = await setup();
    const { commits, switchTo } = mountSwitching(({ name, commit }) => {
      const { members, channel, status } = usePresence(name);
      return (
        <div data-testid="online" ref={(el) => void (el && commit(el.textContent ?? ''))}>
          {status}:{members.map((m) => `${m.clientId}@${channel};`)}
        </div>
      );
    }, client);
    await client.channel('room:a').presence.enter({ who: 'me' });
    await waitFor(() => expect(screen.getByTestId('online').textContent).toContain('@room:a;'));
    switchTo(next);
    await waitFor(() => expect(screen.getByTestId('online').textContent).toBe(next ? 'synced:' : 'idle:'));
    expect(commits.filter((c) => c.name === next && c.dom.includes('@room:a'))).toEqual([]);
  });
});
