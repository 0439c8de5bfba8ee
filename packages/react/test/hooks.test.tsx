// @vitest-environment happy-dom
import type { Channel, ClientOptions } from '@tidewire/core';
import { createClient } from '@tidewire/core';
import { act, configure, render, renderHook, screen, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { StrictMode } from 'react';
import type { Root } from 'react-dom/client';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TidewireProvider, useChannel, useConnectionState, useTidewire } from '../src/index';
import { countingClock, recordingWebSocket, startServer, tick, useTeardown } from './helpers';

const teardown = useTeardown();

/** A real server, a client whose wire frames are recorded, and a provider wrapper for it. */
async function setup(options: Partial<ClientOptions> = {}) {
  const { server, url, authorized } = await startServer();
  const wire = recordingWebSocket();
  const client = createClient({ url, WebSocket: wire.WebSocket, ...options });
  teardown.push(() => server.close(), () => client.close());
  const wrapper = ({ children }: { children: ReactNode }) => <TidewireProvider client={client}>{children}</TidewireProvider>;
  const subscribes = () => wire.frames.flatMap((f) => (f.type === 'subscribe' || f.type === 'unsubscribe' ? [`${f.type}:${f.channel}`] : []));
  return { server, url, authorized, wire, client, wrapper, subscribes };
}

describe('useConnectionState', () => {
  it('is idle until a channel is used, then follows the connection', async () => {
    const { wrapper, wire } = await setup();
    const { result } = renderHook(() => useConnectionState(), { wrapper });
    await tick(20);
    expect(result.current).toEqual({ state: 'idle' });
    expect(wire.sockets).toHaveLength(0);
    const channel = renderHook(() => useChannel('room:state'), { wrapper });
    await waitFor(() => expect(result.current).toMatchObject({ state: 'connected', transport: 'websocket' }));
    channel.unmount();
  });

  it('useTidewire throws a helpful error outside a provider', () => {
    expect(() => renderHook(() => useTidewire())).toThrow(/TidewireProvider/);
  });
});

describe('useChannel: round trip and StrictMode wiring (real server)', () => {
  it('receives and publishes (round trip)', async () => {
    const { wrapper, server } = await setup();
    const { result } = renderHook(() => useChannel<{ text: string }>('room:1'), { wrapper });
    expect(result.current.messages).toEqual([]);
    await waitFor(() => expect(result.current.status).toBe('subscribed'));
    const ack = await result.current.publish({ text: 'hi' });
    expect(ack.offset).toBe(1);
    await waitFor(() => expect(result.current.last?.data).toEqual({ text: 'hi' }));
    await server.publish('room:1', { text: 'from the server' });
    await waitFor(() => expect(result.current.messages.map((m) => m.data.text)).toEqual(['hi', 'from the server']));
    expect(result.current.messages.map((m) => m.offset)).toEqual([1, 2]);
    expect(result.current.error).toBeUndefined();
    expect(result.current.gap).toBeUndefined();
  });

  it('StrictMode: one connection and one subscribe frame on the wire; the provider closes the client it created', async () => {
    const { server, url, authorized } = await startServer();
    teardown.push(() => server.close());
    const wire = recordingWebSocket();
    const states: string[] = [];
    const watched = new Set<unknown>();
    let seen: ReturnType<typeof useChannel<string>> | undefined;
    function Probe() {
      const client = useTidewire();
      if (!watched.has(client)) {
        watched.add(client); // from the first render, before any effect runs
        client.on('state', (change) => states.push(change.to.state));
      }
      seen = useChannel<string>('room:strict');
      const { state } = useConnectionState();
      return <p data-testid="probe" data-status={`${seen.status}/${state}`} />;
    }
    // StrictMode at the root, as apps have it: React double-invokes renders, state initializers and effects.
    const view = render(
      <StrictMode>
        <TidewireProvider options={{ url, WebSocket: wire.WebSocket }}>
          <Probe />
        </TidewireProvider>
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('probe').dataset.status).toBe('subscribed/connected'));
    await tick(50);
    expect(states).toEqual(['connecting', 'connected']); // never closed and reopened by the double mount
    expect(wire.sockets).toHaveLength(1);
    expect(wire.frames.map((f) => f.type)).toEqual(['connect', 'subscribe']);
    expect(authorized).toEqual(['room:strict']);
    expect(server.stats().sessions).toBe(1);
    await server.publish('room:strict', 'once');
    await waitFor(() => expect(seen?.messages.map((m) => m.data)).toEqual(['once']));
    view.unmount();
    await waitFor(() => expect(server.stats().sessions).toBe(0));
    expect(states.at(-1)).toBe('closed');
  });
});

describe.each([
  ['plain', false],
  ['StrictMode', true],
])('useChannel (%s) against the real server', (_mode, strict) => {
  beforeEach(() => configure({ reactStrictMode: strict }));
  afterEach(() => configure({ reactStrictMode: false }));

  it('two components share one subscription; unmounting one keeps the other receiving', async () => {
    const { wrapper, server, subscribes } = await setup();
    function Room({ id }: { id: string }) {
      const { messages, status } = useChannel<string>('room:shared');
      return (
        <p data-testid={id} data-status={status}>
          {messages.map((m) => m.data).join(',')}
        </p>
      );
    }
    const App = ({ showA }: { showA: boolean }) => (
      <>
        {showA && <Room id="a" />}
        <Room id="b" />
      </>
    );
    const view = render(<App showA />, { wrapper });
    // Each component re-renders on its own schedule (StrictMode doubles them): wait for both.
    await waitFor(() => expect(screen.getByTestId('a').dataset.status).toBe('subscribed'));
    await waitFor(() => expect(screen.getByTestId('b').dataset.status).toBe('subscribed'));
    await server.publish('room:shared', 'one');
    await waitFor(() => expect(screen.getByTestId('a').textContent).toBe('one'));
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('one'));

    view.rerender(<App showA={false} />);
    await tick(30); // past the one-tick release
    await server.publish('room:shared', 'two');
    await waitFor(() => expect(screen.getByTestId('b').textContent).toBe('one,two'));
    expect(subscribes()).toEqual(['subscribe:room:shared']);
  });

  it('switches channel cleanly when the name changes', async () => {
    const { wrapper, server, subscribes } = await setup();
    const { result, rerender } = renderHook(({ name }) => useChannel<string>(name), { wrapper, initialProps: { name: 'room:a' } });
    await waitFor(() => expect(result.current.status).toBe('subscribed'));
    await server.publish('room:a', 'a1');
    await waitFor(() => expect(result.current.messages.map((m) => m.data)).toEqual(['a1']));

    rerender({ name: 'room:b' });
    expect(result.current.messages).toEqual([]); // nothing of room:a is shown as room:b
    await waitFor(() => expect(result.current.status).toBe('subscribed'));
    await server.publish('room:a', 'a2');
    await server.publish('room:b', 'b1');
    await waitFor(() => expect(result.current.messages.map((m) => m.data)).toEqual(['b1']));
    await waitFor(() => expect(subscribes()).toEqual(['subscribe:room:a', 'subscribe:room:b', 'unsubscribe:room:a']));
    expect(result.current.messages.every((m) => m.channel === 'room:b')).toBe(true);
  });

  it('enabled: false (or a null name) holds no subscription and opens no connection', async () => {
    const { wrapper, client, wire, subscribes } = await setup();
    const { result, rerender } = renderHook(({ enabled, name }) => useChannel(name, { enabled }), {
      wrapper,
      initialProps: { enabled: false, name: 'room:off' as string | null },
    });
    rerender({ enabled: true, name: null });
    await tick(30);
    expect(result.current.status).toBe('idle');
    expect(client.getSnapshot().state).toBe('idle');
    expect(wire.sockets).toHaveLength(0);

    rerender({ enabled: true, name: 'room:off' });
    await waitFor(() => expect(result.current.status).toBe('subscribed'));
    rerender({ enabled: false, name: 'room:off' });
    expect(result.current.status).toBe('idle');
    await waitFor(() => expect(subscribes()).toEqual(['subscribe:room:off', 'unsubscribe:room:off']));
  });

  it('inline callbacks and option objects on every render never resubscribe; the latest onMessage is called', async () => {
    const { wrapper, server, wire } = await setup();
    const seen: string[] = [];
    const { result, rerender } = renderHook(
      ({ n }) => useChannel<string>('room:inline', { onMessage: (m) => seen.push(`${n}:${m.data}`), history: 10 }),
      { wrapper, initialProps: { n: 0 } },
    );
    await waitFor(() => expect(result.current.status).toBe('subscribed'));
    const publish = result.current.publish;
    for (let n = 1; n <= 100; n++) rerender({ n });
    expect(result.current.publish).toBe(publish);
    await server.publish('room:inline', 'x');
    await waitFor(() => expect(seen).toEqual(['100:x']));
    await tick(20);
    expect(wire.frames.map((f) => f.type)).toEqual(['connect', 'subscribe']);
  });

  it('moves its subscription when the provider is given another client', async () => {
    const first = await setup();
    const second = await setup();
    const Room = () => <p data-testid="room" data-status={useChannel('room:moved').status} />;
    const view = render(
      <TidewireProvider client={first.client}>
        <Room />
      </TidewireProvider>,
    );
    await waitFor(() => expect(screen.getByTestId('room').dataset.status).toBe('subscribed'));
    view.rerender(
      <TidewireProvider client={second.client}>
        <Room />
      </TidewireProvider>,
    );
    await waitFor(() => expect(second.subscribes()).toEqual(['subscribe:room:moved']));
    await waitFor(() => expect(first.subscribes()).toEqual(['subscribe:room:moved', 'unsubscribe:room:moved']));
    await waitFor(() => expect(screen.getByTestId('room').dataset.status).toBe('subscribed'));
  });

  // 1,000 real React renders take ~2 s idle and far longer on a loaded 2-core machine: the
  // contract is "no leak", not a speed, so the test gets a deadline no machine load reaches.
  it('1,000 mount/unmount cycles leak no handle, listener or timer, and the last release unsubscribes', { timeout: 180_000 }, async () => {
    const { clock, pending } = countingClock();
    const { wrapper, client, server, subscribes } = await setup({ clock });
    // Count live listeners through the public API: every handle acquired, every subscribe/on and its undo.
    const live = { handles: 0, listeners: 0 };
    const counted =
      <A extends unknown[]>(add: (...args: A) => () => void) =>
      (...args: A) => {
        live.listeners++;
        const off = add(...args);
        let removed = false;
        return () => {
          if (!removed) live.listeners--;
          removed = true;
          off();
        };
      };
    client.subscribe = counted(client.subscribe);
    const acquire = client.channel.bind(client) as (name: string) => Channel<unknown>;
    (client as { channel: unknown }).channel = (name: string) => {
      const handle = acquire(name);
      const release = handle.unsubscribe.bind(handle);
      live.handles++;
      handle.subscribe = counted(handle.subscribe);
      handle.on = counted(handle.on.bind(handle)) as typeof handle.on;
      handle.unsubscribe = () => {
        live.handles--;
        release();
      };
      return handle;
    };

    function Churn() {
      const { status } = useChannel('room:soak', { onMessage: () => {} });
      const { state } = useConnectionState();
      return <i>{`${status}/${state}`}</i>;
    }
    function Anchor() {
      const { messages, status } = useChannel<number>('room:soak');
      return (
        <p data-testid="anchor" data-status={status}>
          {messages.map((m) => m.data).join(',')}
        </p>
      );
    }
    const anchor = render(<Anchor />, { wrapper });
    await waitFor(() => expect(screen.getByTestId('anchor').dataset.status).toBe('subscribed'));
    await waitFor(() => expect(live.handles).toBe(1));
    await tick(20);
    const baseline = { ...live, timers: pending.size };

    for (let i = 0; i < 1000; i++) {
      render(<Churn />, { wrapper }).unmount();
      if (i % 50 === 49) await tick(); // let the deferred releases run in between
    }
    // Deferred releases run on their own timers: poll until they have, rather than guess how long.
    await waitFor(() => expect({ ...live, timers: pending.size }).toEqual(baseline));
    expect(subscribes()).toEqual(['subscribe:room:soak']); // the anchor kept it: no churn on the wire
    await server.publish('room:soak', 1);
    await waitFor(() => expect(screen.getByTestId('anchor').textContent).toBe('1'));

    anchor.unmount();
    await waitFor(() => expect(live).toEqual({ handles: 0, listeners: 0 }));
    await waitFor(() => expect(subscribes()).toEqual(['subscribe:room:soak', 'unsubscribe:room:soak']));
    expect(pending.size).toBe(baseline.timers); // only the connection's own heartbeat deadline
    client.close();
    expect(pending.size).toBe(0);
  });
});

describe('hydration', () => {
  it('hydrates server markup without a mismatch (both render idle), then connects', async () => {
    const { url, server, wire, client } = await setup();
    function Status() {
      const { state } = useConnectionState();
      const { status } = useChannel('room:hydrate');
      return <p data-testid="hydrated">{`${state}/${status}`}</p>;
    }
    // The server side: a client of its own that is never used, as in a real SSR process.
    const html = renderToString(
      <TidewireProvider options={{ url, WebSocket: recordingWebSocket().WebSocket }}>
        <Status />
      </TidewireProvider>,
    );
    expect(html).toBe('<p data-testid="hydrated">idle/idle</p>');
    const container = document.createElement('div');
    container.innerHTML = html;
    document.body.append(container);
    const errors: unknown[] = [];
    let root: Root | undefined;
    await act(async () => {
      root = hydrateRoot(
        container,
        <TidewireProvider client={client}>
          <Status />
        </TidewireProvider>,
        { onRecoverableError: (error) => errors.push(error) },
      );
    });
    await waitFor(() => expect(screen.getByTestId('hydrated').textContent).toBe('connected/subscribed'));
    expect(errors).toEqual([]);
    expect(wire.sockets).toHaveLength(1);
    expect(server.stats().sessions).toBe(1);
    act(() => root?.unmount());
    container.remove();
  });
});
