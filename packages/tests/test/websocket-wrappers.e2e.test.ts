import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ChannelMessage, WebSocketConstructor } from '@tidewire/core';
import { websocket } from '@tidewire/core/websocket';
import { startServer, until } from './helpers/servers';

/**
 * The WebSocket an app hands the client is not always `ws` itself: a Proxy that logs sends, a
 * subclass, a class that forwards to an inner socket. Each must connect, deliver and publish as
 * `ws` does — the transport listens through whatever object it was given, never by identity.
 */
type Ctor = new (url: string, protocols?: string | string[], options?: unknown) => WebSocket;
const wrappers: [string, Ctor][] = [
  ['a Proxy around ws', function ProxiedWs(url: string, protocols?: string | string[], options?: unknown) {
    return new Proxy(new WebSocket(url, protocols, options as WebSocket.ClientOptions), {});
  } as unknown as Ctor],
  ['a Proxy that binds methods to the socket', function BoundProxy(url: string, protocols?: string | string[], options?: unknown) {
    const socket = new WebSocket(url, protocols, options as WebSocket.ClientOptions);
    return new Proxy(socket, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  } as unknown as Ctor],
  ['a subclass of ws', class LoggingWs extends WebSocket {} as unknown as Ctor],
];

describe.each(wrappers)('the WebSocket transport over %s', (_name, Wrapped) => {
  it('connects, delivers and acks', async () => {
    await using t = await startServer();
    const transports = [websocket({ WebSocket: Wrapped as unknown as WebSocketConstructor })];
    const publisher = t.client({ transports });
    const reader = t.client({ transports });
    const seen: unknown[] = [];
    const room = reader.channel('room');
    room.on('message', (m: ChannelMessage) => seen.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    const acks = await Promise.all([1, 2, 3].map((n) => publisher.publish('room', n)));
    expect(acks.map((a) => a.offset)).toEqual([1, 2, 3]);
    await until(() => seen.length === 3, 'delivered');
    expect(seen).toEqual([1, 2, 3]);
    expect(publisher.getSnapshot()).toMatchObject({ state: 'connected', transport: 'websocket' });
  });
});
