// @vitest-environment node
import { createClient } from '@tidewire/core';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { countingClock, recordingWebSocket, tick } from './helpers';

function App() {
  const { useChannel, useConnectionState } = bindings;
  const connection = useConnectionState();
  const { status, messages } = useChannel<string>('room:ssr');
  return <p>{`connection=${connection.state} channel=${status} messages=${messages.length}`}</p>;
}

let bindings: typeof import('../src/index');

describe('SSR (plain Node, no window)', () => {
  it('imports with no DOM globals and no side effects', async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    expect(typeof (globalThis as { document?: unknown }).document).toBe('undefined');
    bindings = await import('../src/index');
    expect(Object.keys(bindings).sort()).toEqual(['TidewireContext', 'TidewireProvider', 'useChannel', 'useConnectionState', 'usePresence', 'useTidewire']);
  });

  it('renders idle with a provider-created client and opens no connection', async () => {
    const wire = recordingWebSocket();
    const html = renderToString(
      <bindings.TidewireProvider options={{ url: 'ws://127.0.0.1:9/tidewire', WebSocket: wire.WebSocket }}>
        <App />
      </bindings.TidewireProvider>,
    );
    expect(html).toBe('<p>connection=idle channel=idle messages=0</p>');
    await tick(20);
    expect(wire.sockets).toHaveLength(0);
  });

  it('renders idle with an app-owned client, which stays idle with no timer pending', async () => {
    const wire = recordingWebSocket();
    const { clock, pending } = countingClock();
    const client = createClient({ url: 'ws://127.0.0.1:9/tidewire', WebSocket: wire.WebSocket, clock });
    const html = renderToString(
      <bindings.TidewireProvider client={client}>
        <App />
      </bindings.TidewireProvider>,
    );
    expect(html).toBe('<p>connection=idle channel=idle messages=0</p>');
    await tick(20);
    expect(client.getSnapshot()).toEqual({ state: 'idle' });
    expect(pending.size).toBe(0);
    expect(wire.sockets).toHaveLength(0);
  });
});
