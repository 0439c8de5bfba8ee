import { describe, expect, it } from 'vitest';
import type { TidewireError, TransportFactory } from '@tidewire/core';
import { ProtocolError } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { endlessFetch } from './helpers/endless-fetch';
import { injectedWebSocket } from './helpers/env';
import { startServer, until } from './helpers/servers';

/**
 * The client's bound on one server frame (`maxFrameBytes`, docs/transports.md) against the real
 * server: a frame close to `maxPayload` passes with the bound set right at `maxPayload`, over
 * every transport; and a frame that never ends (a broken proxy, injected into the HTTP transports'
 * fetch) is cut at the bound, reported `invalid_frame`, and what it swallowed is recovered.
 */
const MAX_PAYLOAD = 256 * 1024;
const quiet = { logger: { warn: () => {}, error: () => {} } };

const bounded: [string, () => TransportFactory][] = [
  ['websocket', () => websocket({ ...(injectedWebSocket && { WebSocket: injectedWebSocket }), maxFrameBytes: MAX_PAYLOAD })],
  ['sse', () => sse({ maxFrameBytes: MAX_PAYLOAD })],
  ['longpoll', () => longpoll({ maxFrameBytes: MAX_PAYLOAD })],
];

describe.each(bounded)('a frame close to maxPayload over %s, the client bound at maxPayload', (_name, transport) => {
  it('is published, delivered live and read back from history, with no error and no reconnect', async () => {
    await using t = await startServer({ ...quiet, limits: { maxPayload: MAX_PAYLOAD } }, { transports: [transport()] });
    const publisher = t.client();
    const subscriber = t.client();
    const errors: TidewireError[] = [];
    const states: string[] = [];
    for (const client of [publisher, subscriber]) client.on('error', (e) => void errors.push(e));
    subscriber.on('state', ({ to }) => void states.push(to.state));
    const received: string[] = [];
    const room = subscriber.channel('big');
    room.on('message', (m) => void received.push(m.data as string));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    publisher.connect(); // until `connected` announces maxPayload, the client holds to the protocol's 64 KiB
    await until(() => publisher.getSnapshot().state === 'connected', 'the publisher connected');

    // The publish frame's envelope (type, id, channel, data's quotes) takes the rest of maxPayload.
    const big = 'x'.repeat(MAX_PAYLOAD - 200);
    await publisher.channel('big').publish(big);
    await until(() => received.length === 1, 'the big message');
    expect(received[0]).toHaveLength(big.length);

    const page = await subscriber.channel('big').history({ limit: 1 });
    expect(page.messages.map((m) => (m.data as string).length)).toEqual([big.length]);
    expect(errors).toEqual([]);
    expect(states.filter((s) => s === 'reconnecting')).toEqual([]);
  }, 30_000);
});

const LIMIT = 256 * 1024;
/** What the client may pull past the bound: the chunk that crossed it and a couple read ahead. */
const SLACK = 64 * 1024;

describe.each([
  ['sse', 'sse', (fetch: typeof globalThis.fetch) => sse({ fetch, maxFrameBytes: LIMIT })],
  ['longpoll', 'poll', (fetch: typeof globalThis.fetch) => longpoll({ fetch, maxFrameBytes: LIMIT })],
] as const)('a frame that never ends over %s', (_name, kind, transport) => {
  it('is cut at the bound, reported invalid_frame, and the message it swallowed is recovered after the reconnect', async () => {
    const endless = endlessFetch(kind);
    await using t = await startServer(quiet, { transports: [transport(endless.fetch)] });
    const client = t.client();
    const errors: TidewireError[] = [];
    client.on('error', (e) => void errors.push(e));
    const states: string[] = [];
    client.on('state', ({ to }) => void states.push(to.state));
    const received: string[] = [];
    const room = client.channel('room');
    room.on('message', (m) => void received.push(m.data as string));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('room', 'before');
    await until(() => received.length === 1, 'the first message');

    endless.break();
    // Sent into the line that is going wrong: it never reaches the client on that line.
    await t.server.publish('room', 'during');
    await until(() => errors.length > 0, 'the report');
    expect(errors[0]).toBeInstanceOf(ProtocolError);
    expect(errors[0]!.code).toBe('invalid_frame');
    expect(errors[0]!.message).toContain(`${LIMIT} bytes`);
    await until(() => received.length === 2, 'the swallowed message, recovered', 20_000);
    await t.server.publish('room', 'after');
    await until(() => received.length === 3, 'a later message');

    expect(received).toEqual(['before', 'during', 'after']);
    expect(endless.state.endless).toBe(1);
    expect(endless.state.pulled).toBeGreaterThan(LIMIT);
    expect(endless.state.pulled).toBeLessThan(LIMIT + SLACK);
    expect(states).toContain('reconnecting');
    expect(client.getSnapshot().state).toBe('connected');
    expect(errors).toHaveLength(1);
  }, 30_000);
});
