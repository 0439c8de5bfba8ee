// @vitest-environment happy-dom
import { memoryOutbox, type StoredPublish } from '@tidewire/core';
import { render, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { describe, expect, it } from 'vitest';
import { TidewireProvider } from '../src/index';
import { recordingWebSocket, startServer, tick, useTeardown } from './helpers';

const teardown = useTeardown();

/**
 * `<TidewireProvider options>` creates its client in a `useState` initializer, which StrictMode
 * calls twice, keeping one result. With an `outboxStorage` holding a publish, the discarded client
 * read it and connected by itself, re-sent the publish and stayed open (nothing closes it): the
 * provider now lets only the kept client connect, from its effect.
 */
describe('TidewireProvider with options and an outboxStorage, under StrictMode', () => {
  it('opens one connection, sends the stored publish once, and leaves nothing open after unmount', async () => {
    const { server, url } = await startServer();
    teardown.push(() => server.close());
    const wire = recordingWebSocket();
    const frame = JSON.stringify({ type: 'publish', id: 'left-1', channel: 'room', data: 'typed before the reload' });
    const stored = new Map<string, StoredPublish>([['left-1', { id: 'left-1', channel: 'room', data: 'typed before the reload', queuedAt: Date.now(), frame }]]);
    const view = render(
      <StrictMode>
        <TidewireProvider options={{ url, WebSocket: wire.WebSocket, outboxStorage: memoryOutbox(stored) }}>
          <p>app</p>
        </TidewireProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(stored.size).toBe(0)); // acked: removed from the storage
    expect(wire.sockets).toHaveLength(1);
    expect(wire.count('publish')).toBe(1);
    view.unmount();
    await waitFor(() => expect(wire.sockets.every((s) => s.readyState === s.CLOSED)).toBe(true));
    await tick(50);
    expect(wire.sockets).toHaveLength(1);
  });
});
