// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { TidewireProvider, useChannel, useConnectionState } from '../src/index';
import { recordingWebSocket, tick } from './helpers';

function App() {
  const { state } = useConnectionState();
  const { status } = useChannel<string>('room:relative');
  return <p>{`connection=${state} channel=${status}`}</p>;
}

describe('TidewireProvider with a relative url on the server (no page)', () => {
  it('renders the idle markup instead of throwing, and dials nothing', async () => {
    expect(typeof (globalThis as { location?: unknown }).location).toBe('undefined');
    const wire = recordingWebSocket();
    const html = renderToString(
      <TidewireProvider options={{ url: '/tidewire', WebSocket: wire.WebSocket }}>
        <App />
      </TidewireProvider>,
    );
    expect(html).toBe('<p>connection=idle channel=idle</p>');
    await tick(20);
    expect(wire.sockets).toHaveLength(0);
  });
});
