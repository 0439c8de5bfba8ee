import type { Client, TransportFactory, WebSocketConstructor } from '@tidewire/core';
import { createClient } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { createServer, type TidewireServer } from '@tidewire/server';
import WebSocketImpl from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestKit } from '../src/index';
import { eventually, range, record, type Recording } from './helpers';

/**
 * The kit is only worth using if what a test sees through it is what the app sees over a real
 * network. The same scenarios run through the kit and against a real server on loopback over
 * each of the three transports; the outcomes must be equal.
 */

/** Where a scenario runs: a server to publish on, clients, a way to cut a client's line, and a way to wait. */
interface Setup {
  server(): TidewireServer;
  client(): Client;
  drop(client: Client): void;
  /** Let the clients reconnect (kit: move its clock; loopback: real time passes by itself). */
  reconnect(client: Client): Promise<void>;
  settle(check: () => void): Promise<void>;
  close(): Promise<void>;
}

const quiet = { logger: { warn: () => {}, error: () => {} } };

function kitSetup(): Setup {
  const kit = createTestKit(quiet);
  return {
    server: () => kit.server,
    client: () => kit.client(),
    drop: (client) => void kit.faults.drop(client),
    reconnect: (client) => kit.clock.advanceUntil(() => client.getSnapshot().state === 'connected').then(() => kit.settle()),
    settle: async (check) => {
      await kit.settle();
      check();
    },
    close: () => kit.close(),
  };
}

async function loopbackSetup(transport: () => TransportFactory): Promise<Setup> {
  const server = createServer(quiet);
  const { url } = await server.listen(0);
  const clients: Client[] = [];
  return {
    server: () => server,
    client: () => {
      const client = createClient({ url, transports: [transport()], WebSocket: WebSocketImpl as unknown as WebSocketConstructor });
      clients.push(client);
      return client;
    },
    drop: (client) => client.disconnectTransport('parity test: line cut'),
    reconnect: (client) => eventually(() => expect(client.getSnapshot().state).toBe('connected')),
    settle: (check) => eventually(check),
    close: async () => {
      for (const client of clients) client.close();
      await server.close();
    },
  };
}

/** Subscriber cut twice while messages flow; another client publishes meanwhile. What did it see? */
async function dropScenario(setup: Setup): Promise<{ data: unknown[]; offsets: number[]; gaps: number; acks: number[] }> {
  const bob = setup.client();
  const alice = setup.client();
  const stream: Recording = record(bob.channel('stream'));
  await setup.settle(() => expect(bob.channel('stream').getSnapshot().state).toBe('subscribed'));
  const acks: number[] = [];
  for (const round of [0, 1]) {
    for (const i of range(5)) acks.push((await alice.publish('stream', round * 10 + i)).offset);
    setup.drop(bob);
    for (const i of range(5)) await setup.server().publish('stream', round * 10 + 5 + i);
    await setup.reconnect(bob);
  }
  await setup.settle(() => expect(stream.messages).toHaveLength(20));
  return { data: stream.data(), offsets: stream.offsets(), gaps: stream.gaps.length, acks };
}

const transports: [string, () => TransportFactory][] = [
  ['websocket', () => websocket()],
  ['sse', () => sse()],
  ['longpoll', () => longpoll()],
];

let setups: Setup[] = [];
afterEach(async () => {
  for (const setup of setups.splice(0)) await setup.close();
});

describe.each(transports)('the kit and a real server over %s agree', (_name, transport) => {
  it('a subscriber cut twice sees every message once, in order, without gaps; publishes ack in order', async () => {
    const viaKit = kitSetup();
    const viaLoopback = await loopbackSetup(transport);
    setups = [viaKit, viaLoopback];
    const kitOutcome = await dropScenario(viaKit);
    const realOutcome = await dropScenario(viaLoopback);
    expect(kitOutcome).toEqual(realOutcome);
    expect(realOutcome).toEqual({
      data: range(20), // alice's 1–5, the server's 6–10 while bob was away, then 11–15 and 16–20
      offsets: range(20),
      gaps: 0,
      acks: [1, 2, 3, 4, 5, 11, 12, 13, 14, 15],
    });
  });
});
