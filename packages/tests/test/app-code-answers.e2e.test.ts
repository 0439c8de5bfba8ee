import { describe, expect, it } from 'vitest';
import type { OutboxStorage, StandardSchemaV1, StoredPublish, TidewireError } from '@tidewire/core';
import { MemoryBroker } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * App code that throws or answers garbage inside frame handling — a payload codec, a schema, an
 * outboxStorage, a getToken — and a message frame the client cannot use are isolated on every real
 * transport: reported (`listener_error`, `invalid_frame`, `timeout`) on `client.on('error')` and the
 * channel's `error`, the message consumed at its offset, delivery and publishing carry on, no reconnect.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects a client's errors as `code/callback`. */
function errorLog(target: { on(event: 'error', listener: (e: TidewireError) => void): unknown }): TidewireError[] {
  const errors: TidewireError[] = [];
  target.on('error', (e) => errors.push(e));
  return errors;
}

const schemaAnswering = (bad: () => unknown): StandardSchemaV1<unknown, unknown> => ({
  '~standard': { version: 1, vendor: 'test', validate: (v: unknown) => (v === 'bad' ? bad() : { value: v }) as never },
});

describe.each(allTransports)('app code answers garbage, over %s', (_name, transport) => {
  it.each([
    ['throws', (d: unknown) => {
      if (d === 'poison') throw new Error('cannot decode');
      return d;
    }],
    ['answers undefined', (d: unknown) => (d === 'poison' ? undefined : d)],
  ])('a codec whose decode %s on one message: listener_error on client and channel, the rest delivered in order on the same line; a throwing encode rejects', async (_label, decode) => {
    await using t = await startQuietServer(transport);
    const encode = (d: unknown) => {
      if (d === 'bad-out') throw new Error('cannot encode');
      return d;
    };
    const client = t.client({ codec: { encode, decode } });
    const errors = errorLog(client);
    const room = client.channel('room');
    const channelErrors = errorLog(room);
    const seen: unknown[] = [];
    room.on('message', (m) => seen.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    for (const data of [1, 'poison', 3, 4]) await t.server.publish('room', data);
    await until(() => seen.length === 3, 'the messages after the poison one');
    expect(seen).toEqual([1, 3, 4]);
    expect(room.position?.offset).toBe(4);
    expect(errors).toMatchObject([{ code: 'listener_error', context: { callback: 'codec', method: 'decode', channel: 'room', offset: 2 } }]);
    expect(channelErrors).toEqual(errors);
    let outcome: Promise<unknown> | undefined;
    expect(() => (outcome = client.publish('room', 'bad-out'))).not.toThrow();
    await expect(outcome).rejects.toMatchObject({ code: 'listener_error', context: { callback: 'codec', method: 'encode' } });
    await expect(room.publish('after')).resolves.toMatchObject({ offset: 5 });
    expect(client.getMetrics().reconnects).toBe(0);
  });

  it.each([
    ['undefined', () => undefined],
    ['{ issues: 5 }', () => ({ issues: 5 })],
    ['a foreign thenable', () => ({ then: (resolve: (v: unknown) => void) => resolve({ issues: [{ message: 'async no' }] }) })],
  ])('a schema whose validate returns %s: listener_error on client and channel, consumed, delivery goes on; publish rejects', async (_label, bad) => {
    await using t = await startQuietServer(transport);
    const client = t.client();
    const errors = errorLog(client);
    const room = client.channel('room', { schema: schemaAnswering(bad) });
    const channelErrors = errorLog(room);
    const seen: unknown[] = [];
    room.on('message', (m) => seen.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    for (const data of [1, 'bad', 3]) await t.server.publish('room', data);
    await until(() => seen.length === 2, 'the message after the bad one');
    expect(seen).toEqual([1, 3]);
    expect(errors).toMatchObject([{ code: 'listener_error', context: { callback: 'schema', channel: 'room' } }]);
    expect(channelErrors).toEqual(errors);
    let outcome: Promise<unknown> | undefined;
    expect(() => (outcome = room.publish('bad'))).not.toThrow();
    await expect(outcome).rejects.toMatchObject({ code: 'listener_error' });
    await expect(room.publish(4)).resolves.toMatchObject({ offset: 4 });
    expect(client.getMetrics().reconnects).toBe(0);
  });

  it('a message frame without data is consumed at its offset (invalid_frame on client and channel), live and when replayed from history', async () => {
    const broker = new MemoryBroker();
    await using t = await startQuietServer(transport, { broker });
    const client = t.client();
    const errors = errorLog(client);
    const room = client.channel('room');
    const channelErrors = errorLog(room);
    const seen: unknown[] = [];
    room.on('message', (m) => seen.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    await t.server.publish('room', 1);
    await broker.publish('room', { id: 'no-data', data: undefined }); // the server sends it without `data`
    await t.server.publish('room', 3);
    await until(() => seen.length === 2, 'the message after the unusable one');
    expect(seen).toEqual([1, 3]);
    expect(errors).toMatchObject([{ name: 'ProtocolError', code: 'invalid_frame', context: { channel: 'room', offset: 2, id: 'no-data' } }]);
    expect(channelErrors).toEqual(errors);
    // A later subscriber from the start gets it replayed from history: consumed the same way, once.
    const late = t.client();
    const lateErrors = errorLog(late);
    const lateSeen: unknown[] = [];
    const lateRoom = late.channel('room', { since: { epoch: room.position!.epoch, offset: 0 } });
    lateRoom.on('message', (m) => lateSeen.push(m.data));
    await until(() => lateSeen.length === 2, 'the replay past the unusable message');
    await t.server.publish('room', 4);
    await until(() => lateSeen.length === 3 && seen.length === 3, 'live again');
    expect(lateSeen).toEqual([1, 3, 4]);
    expect(lateErrors).toMatchObject([{ code: 'invalid_frame', context: { offset: 2 } }]);
    await sleep(1500); // past the reorder window: nothing waits to refill offset 2
    expect(lateErrors).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(client.getMetrics().reconnects + late.getMetrics().reconnects).toBe(0);
  });

  it('an outboxStorage with two different corrupt entries: each dropped and reported, the valid one restored, a new publish acked', async () => {
    await using t = await startQuietServer(transport);
    const now = Date.now();
    const entries = [
      { id: 'old1', channel: 'room', data: 1, queuedAt: now - 3 }, // an older record: no frame
      { id: 'old2', channel: 'room', data: 2, queuedAt: now - 2, frame: JSON.stringify({ type: 'subscribe', id: 'old2', channel: 'evil' }) },
      { id: 'ok1', channel: 'room', data: 'kept', queuedAt: now - 1, frame: JSON.stringify({ type: 'publish', id: 'ok1', channel: 'room', data: 'kept' }) },
    ] as StoredPublish[];
    const deleted: string[] = [];
    const storage: OutboxStorage = { get: async () => undefined, set: async () => {}, delete: async (id) => void deleted.push(id), list: async () => entries };
    const client = t.client({ outboxStorage: storage });
    const errors = errorLog(client);
    await expect(client.publish('room', 'after')).resolves.toMatchObject({ offset: 2 });
    const reported = errors.filter((e) => e.context.callback === 'outboxStorage');
    expect(reported.map((e) => [e.code, e.context.id])).toEqual([
      ['listener_error', 'old1'],
      ['listener_error', 'old2'],
    ]);
    const page = await client.channel('room').history({ direction: 'forward' });
    expect(page.messages.map((m) => m.data)).toEqual(['kept', 'after']);
    await until(() => deleted.includes('old1') && deleted.includes('old2'), 'the corrupt entries deleted');
  });

  it('an outboxStorage whose list() never answers: timeout reported, publishes go on', async () => {
    await using t = await startQuietServer(transport);
    const storage: OutboxStorage = { get: async () => undefined, set: async () => {}, delete: async () => {}, list: () => new Promise(() => {}) };
    const client = t.client({ outboxStorage: storage, connectTimeout: 1000 });
    const errors = errorLog(client);
    await expect(client.publish('room', 'a')).resolves.toMatchObject({ offset: 1 });
    expect(errors).toMatchObject([{ code: 'timeout', context: { callback: 'outboxStorage', method: 'list' } }]);
  });

  it('a refresh getToken that hangs past a short token life: reported timeout, the reconnect asks getToken("expired") afresh, delivery recovers', async () => {
    // The refresh is asked at 4/5 of the life and given the last fifth: 1 s of margin before the
    // server ends the session, so a loaded machine's late timer still asks before that.
    const life = 5000;
    const token = () => `tok-${Date.now() + life}`;
    await using t = await startQuietServer(transport, {
      authenticate: ({ token: given }) => {
        const m = /^tok-(\d+)$/.exec(String(given));
        return m && Number(m[1]) > Date.now() ? { user: 'u', expiresAt: Number(m[1]) } : null;
      },
    });
    const reasons: string[] = [];
    const client = t.client({
      getToken: ({ reason }) => {
        reasons.push(reason);
        return reason === 'refresh' ? new Promise<string>(() => {}) : token();
      },
    });
    const errors = errorLog(client);
    const publisher = t.client({ token: `tok-${Date.now() + 3_600_000}` });
    const room = client.channel('room');
    const seen: unknown[] = [];
    room.on('message', (m) => seen.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    await until(() => reasons.includes('expired') && client.getSnapshot().state === 'connected', 'reconnected with a fresh token', 20_000);
    expect(errors.filter((e) => e.context.callback === 'getToken')).toMatchObject([{ code: 'timeout', context: { reason: 'refresh' } }]);
    expect(reasons.slice(0, 3)).toEqual(['connect', 'refresh', 'expired']);
    await publisher.publish('room', 'after');
    await until(() => seen.includes('after'), 'delivered after the reconnect');
  });

  it('a throwing client.metrics listener is a listener_error on the client', async () => {
    await using t = await startQuietServer(transport);
    const client = t.client();
    const errors = errorLog(client);
    client.metrics.subscribe(() => {
      throw new Error('metrics boom');
    });
    await expect(client.publish('room', 1)).resolves.toMatchObject({ offset: 1 });
    await until(() => errors.length > 0, 'reported');
    expect(errors[0]).toMatchObject({ code: 'listener_error', context: { callback: 'subscribe' } });
  });
});
