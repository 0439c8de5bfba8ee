// @vitest-environment happy-dom
import { render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TidewireProvider, useChannel, useConnectionState } from '../src/index';
import { recordingWebSocket, startServer } from './helpers';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  vi.unstubAllGlobals();
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function Probe() {
  const { state } = useConnectionState();
  const { status } = useChannel<string>('room:relative');
  return <p data-testid="probe" data-status={`${status}/${state}`} />;
}

describe('TidewireProvider with a relative url in a page', () => {
  it('resolves it against location and connects to that server', async () => {
    const { url, server } = await startServer();
    cleanups.push(() => server.close());
    vi.stubGlobal('location', new URL(`${new URL(url).origin}/app/page`));
    const wire = recordingWebSocket();
    const view = render(
      <TidewireProvider options={{ url: '/tidewire', WebSocket: wire.WebSocket }}>
        <Probe />
      </TidewireProvider>,
    );
    cleanups.push(() => view.unmount());
    await waitFor(() => expect(screen.getByTestId('probe').dataset.status).toBe('subscribed/connected'), { timeout: 15_000 });
    expect(wire.sockets.map((s) => s.url)).toEqual([`${new URL(url).origin.replace('http', 'ws')}/tidewire`]);
  });
});
