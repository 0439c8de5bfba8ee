import type { TransportFactory } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import type { createServer } from '@tidewire/server';
import { injectedWebSocket } from './env';
import { startServer } from './servers';

/** A transport under test: its name (for `describe.each`'s `%s`) and a factory making a fresh one per client. */
export type NamedTransport = [name: string, transport: () => TransportFactory];

/** The two HTTP transports, for behaviour only they have (session secrets, fetch handlers, 403 bodies). */
export const httpTransports: NamedTransport[] = [
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

/** Every real transport the behaviour suites run over; WebSocket is `ws` on Node 20, the runtime's own on Node 22. */
export const allTransports: NamedTransport[] = [
  ['websocket', () => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }) })],
  ...httpTransports,
];

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

/** A real server on loopback whose logger stays quiet (the tests provoke what it would log), with clients on `transport`. */
export const startQuietServer = (transport: () => TransportFactory, options: ServerOptions = {}) =>
  startServer({ logger: { warn: () => {}, error: () => {} }, ...options }, { transports: [transport()] });
