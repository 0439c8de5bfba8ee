import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import { TidewireError } from '../src/errors';
import type { OutboxStorage, StoredPublish } from '../src/outbox-storage';
import type { PublishFrame, ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import type { StandardSchemaV1 } from '../src/schema';
import { connected, fakeTransport } from './fake-transport';

/**
 * App code that answers garbage (not only app code that throws) is isolated as well: a schema
 * whose validate returns nothing, `issues` that are not an array or a thenable that is not a
 * native Promise; each is a `listener_error`, the message is consumed at its offset, delivery goes on,
 * and a publish rejects instead of throwing.
 */

const msg = (offset: number, data: unknown = offset): ServerFrame => ({ type: 'message', channel: 't', epoch: 'e1', offset, id: `m${offset}`, data });

function setup(options: Partial<ClientOptions> = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 10, ...options });
  const errors: TidewireError[] = [];
  client.on('error', (e) => errors.push(e));
  return { t, client, errors };
}

/** Open the line, answer the handshake and every subscribe sent so far. */
async function accept(t: ReturnType<typeof fakeTransport>) {
  t.last.open();
  t.last.push(connected());
  await vi.advanceTimersByTimeAsync(0);
  for (const sub of t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe')) {
    t.last.push({ type: 'subscribed', id: sub.id, channel: sub.channel, epoch: 'e1', offset: 0, recovered: true });
  }
}

/** A schema that accepts everything but answers `bad()` for the value 'bad'. */
const schemaAnswering = (bad: () => unknown): StandardSchemaV1<unknown, unknown> => ({
  '~standard': { version: 1, vendor: 'test', validate: (v: unknown) => (v === 'bad' ? bad() : { value: v }) as never },
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('a schema that answers garbage', () => {
  const answers: Array<[string, () => unknown]> = [
    ['undefined', () => undefined],
    ['{ issues: 5 }', () => ({ issues: 5 })],
    ['issues of strings', () => ({ issues: ['nope'] })],
    ['a thenable that is not a Promise', () => ({ then: (resolve: (v: unknown) => void) => resolve({ value: 'bad' }) })],
    ['a number', () => 7],
  ];

  it.each(answers)('validate returning %s: listener_error on the client and the channel, consumed at its offset, delivery goes on; publish rejects', async (_label, bad) => {
    const { t, client, errors } = setup();
    const room = client.channel('t', { schema: schemaAnswering(bad) });
    const plain = client.channel('t');
    const seen: unknown[] = [];
    const seenPlain: unknown[] = [];
    const channelErrors: TidewireError[] = [];
    room.on('message', (m) => seen.push(m.data));
    room.on('error', (e) => channelErrors.push(e));
    plain.on('message', (m) => seenPlain.push(m.data));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(msg(1));
    t.last.push(msg(2, 'bad'));
    t.last.push(msg(3));
    expect(seen).toEqual([1, 3]);
    expect(seenPlain).toEqual([1, 'bad', 3]); // another handle (no schema) still gets it
    expect(room.position).toEqual({ epoch: 'e1', offset: 3 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'listener_error', context: { callback: 'schema', channel: 't' } });
    expect(errors[0]!.cause).toBeInstanceOf(TypeError);
    expect(channelErrors).toEqual([errors[0]]);
    expect(t.last.closedByClient).toBe(false);

    let outcome: Promise<unknown> | undefined;
    expect(() => (outcome = room.publish('bad'))).not.toThrow();
    await expect(outcome).rejects.toMatchObject({ code: 'listener_error', context: { callback: 'schema' } });
    expect(t.last.sent.filter((f) => f.type === 'publish')).toEqual([]);
    client.close();
  });
});

describe('a payload codec that fails on one message', () => {
  const codecs: Array<[string, (d: unknown) => unknown]> = [
    ['throws', (d) => {
      if (d === 'poison') throw new Error('cannot decode');
      return d;
    }],
    ['answers undefined', (d) => (d === 'poison' ? undefined : d)],
    ['answers a thenable', (d) => (d === 'poison' ? { then: () => {} } : d)],
  ];

  it.each(codecs)('decode that %s: listener_error (callback codec) on the client and every handle, the message consumed at its offset, delivery goes on', async (_label, decode) => {
    const { t, client, errors } = setup({ codec: { encode: (d) => d, decode } });
    const a = client.channel('t');
    const b = client.channel('t');
    const seen: unknown[] = [];
    const channelErrors: TidewireError[] = [];
    a.on('message', (m) => seen.push(m.data));
    a.on('error', (e) => channelErrors.push(e));
    b.on('error', (e) => channelErrors.push(e));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(msg(1));
    t.last.push(msg(2, 'poison'));
    t.last.push(msg(3));
    expect(seen).toEqual([1, 3]);
    expect(a.position).toEqual({ epoch: 'e1', offset: 3 });
    expect(errors).toMatchObject([{ code: 'listener_error', context: { callback: 'codec', method: 'decode', channel: 't', offset: 2, id: 'm2' } }]);
    expect(channelErrors).toEqual([errors[0], errors[0]]);
    expect(t.last.sent.filter((f) => f.type === 'subscribe')).toHaveLength(1); // no resubscribe to refill a hole
    client.close();
  });

  it('a decode that fails on a history page rejects that history() call with the listener_error; the channel goes on', async () => {
    const decode = (d: unknown) => {
      if (d === 'poison') throw new Error('cannot decode');
      return d;
    };
    const { t, client, errors } = setup({ codec: { encode: (d) => d, decode } });
    const room = client.channel('t');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(), features: ['history'] } as ServerFrame);
    await vi.advanceTimersByTimeAsync(0);
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 't', epoch: 'e1', offset: 0, recovered: true });
    const page = room.history({ limit: 2 });
    await vi.advanceTimersByTimeAsync(0);
    const request = t.last.sent.find((f) => f.type === 'history') as { id: string };
    t.last.push({ type: 'history_page', id: request.id, channel: 't', epoch: 'e1', head: 2, more: false, messages: [{ offset: 2, id: 'm2', data: 'poison' }, { offset: 1, id: 'm1', data: 1 }] } as ServerFrame);
    await expect(page).rejects.toMatchObject({ code: 'listener_error', context: { callback: 'codec', method: 'decode', channel: 't' } });
    expect(errors).toEqual([]);
    t.last.push(msg(1));
    expect(room.position).toEqual({ epoch: 'e1', offset: 1 });
    client.close();
  });
});

describe('a message frame whose content is unusable', () => {
  const frames: Array<[string, Record<string, unknown>]> = [
    ['no data', { type: 'message', channel: 't', epoch: 'e1', offset: 2, id: 'm2' }],
    ['an invalid skip', { type: 'message', channel: 't', epoch: 'e1', offset: 2, id: 'm2', data: 2, skip: 'yes' }],
  ];

  it.each(frames)('with %s: invalid_frame (channel, offset) on the client and the channel, consumed at its offset, no resubscribe', async (_label, frame) => {
    const { t, client, errors } = setup();
    const room = client.channel('t');
    const seen: unknown[] = [];
    const channelErrors: TidewireError[] = [];
    room.on('message', (m) => seen.push(m.data));
    room.on('error', (e) => channelErrors.push(e));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(msg(1));
    t.last.push(JSON.stringify(frame));
    t.last.push(msg(3));
    await vi.advanceTimersByTimeAsync(5000); // past the reorder window: nothing is waiting for offset 2
    expect(seen).toEqual([1, 3]);
    expect(room.position).toEqual({ epoch: 'e1', offset: 3 });
    expect(errors).toMatchObject([{ name: 'ProtocolError', code: 'invalid_frame', context: { channel: 't', offset: 2 } }]);
    expect(channelErrors).toEqual([errors[0]]);
    expect(t.last.sent.filter((f) => f.type === 'subscribe')).toHaveLength(1);
    client.close();
  });

  it('out of order: buffered at its offset and consumed when the hole before it closes', async () => {
    const { t, client, errors } = setup();
    const room = client.channel('t');
    const seen: unknown[] = [];
    room.on('message', (m) => seen.push(m.data));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(JSON.stringify({ type: 'message', channel: 't', epoch: 'e1', offset: 2, id: 'm2' }));
    t.last.push(msg(3));
    expect(errors).toEqual([]);
    t.last.push(msg(1));
    expect(seen).toEqual([1, 3]);
    expect(errors).toMatchObject([{ code: 'invalid_frame', context: { offset: 2 } }]);
    client.close();
  });

  it.each([
    ['no offset', { type: 'message', channel: 't', epoch: 'e1', id: 'm2', data: 2 }],
    ['no id (its identity is broken: it could shadow the real message at that offset)', { type: 'message', channel: 't', epoch: 'e1', offset: 1, data: 2 }],
    ['an offset that is not an integer', { type: 'message', channel: 't', epoch: 'e1', offset: 1.5, id: 'm2' }],
    ['no channel', { type: 'message', epoch: 'e1', offset: 2, id: 'm2', data: 2 }],
    ['not JSON', '{"type":"message",'],
  ])('with %s: dropped and reported, the connection stays, the real message at that offset is delivered', async (_label, frame) => {
    const { t, client, errors } = setup();
    const room = client.channel('t');
    const seen: unknown[] = [];
    room.on('message', (m) => seen.push(m.data));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(typeof frame === 'string' ? frame : JSON.stringify(frame));
    expect(errors).toMatchObject([{ code: 'invalid_frame' }]);
    expect(room.position).toEqual({ epoch: 'e1', offset: 0 });
    t.last.push(msg(1));
    expect(seen).toEqual([1]);
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });
});

describe('metrics listeners', () => {
  it('a throwing client.metrics.subscribe listener is a listener_error on the client, the others still run', async () => {
    const { t, client, errors } = setup();
    let told = 0;
    client.metrics.subscribe(() => {
      throw new Error('metrics boom');
    });
    client.metrics.subscribe(() => told++);
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    expect(told).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.code === 'listener_error' && e.context.callback === 'subscribe')).toBe(true);
    client.close();
  });
});

describe('an outboxStorage that answers garbage or never', () => {
  const publishFrame = (id: string, channel = 'room', data: unknown = id) => JSON.stringify({ type: 'publish', id, channel, data });
  const good = (id: string, queuedAt = Date.now()): StoredPublish => ({ id, channel: 'room', data: id, queuedAt, frame: publishFrame(id) });

  function storageListing(list: () => Promise<unknown>) {
    const deleted: string[] = [];
    const storage: OutboxStorage = { get: async () => undefined, set: async () => {}, delete: async (id) => void deleted.push(id), list: list as OutboxStorage['list'] };
    return { storage, deleted };
  }

  /** Connect, then ack every publish frame on the line; returns the ids sent, in order. */
  async function online(t: ReturnType<typeof fakeTransport>): Promise<string[]> {
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.filter((f): f is PublishFrame => f.type === 'publish');
    sent.forEach((p, i) => t.last.push({ type: 'ack', id: p.id, epoch: 'e1', offset: i + 1 }));
    await vi.advanceTimersByTimeAsync(0);
    return sent.map((p) => p.id);
  }

  it('two different corrupt entries (no frame; a frame that is not this publish) are dropped, reported and deleted; the valid ones are restored; a new publish settles', async () => {
    const entries = [
      { id: 'old1', channel: 'room', data: 1, queuedAt: Date.now() - 2 }, // an older version's record: no frame
      { ...good('old2', Date.now() - 1), frame: JSON.stringify({ type: 'subscribe', id: 'old2', channel: 'evil' }) },
      null,
      good('ok1', Date.now() - 3),
      { ...good('old3'), frame: 'garbage{' },
    ];
    const { storage, deleted } = storageListing(async () => entries);
    const { t, client, errors } = setup({ outboxStorage: storage });
    const after = client.publish('room', 'after');
    const sent = await online(t);
    expect(sent[0]).toBe('ok1');
    expect(sent).toHaveLength(2);
    await expect(after).resolves.toMatchObject({ offset: 2 });
    const reported = errors.filter((e) => e.context.callback === 'outboxStorage');
    expect(reported).toHaveLength(4);
    expect(reported.every((e) => e.code === 'listener_error' && e.context.method === 'list' && e.cause instanceof TypeError)).toBe(true);
    expect(reported.map((e) => e.context.id)).toEqual(['old1', 'old2', undefined, 'old3']);
    expect(deleted).toEqual(expect.arrayContaining(['old1', 'old2', 'old3']));
    expect(client.listPendingPublishes()).toEqual([]);
    client.close();
  });

  it('a list() that never answers: reported as timeout after connectTimeout, then publishes go on (the restore counts as empty)', async () => {
    const { storage } = storageListing(() => new Promise(() => {}));
    const { t, client, errors } = setup({ outboxStorage: storage, connectTimeout: 2000 });
    const publish = client.publish('room', 'a');
    await vi.advanceTimersByTimeAsync(1999);
    expect(t.lines).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(errors).toMatchObject([{ name: 'TimeoutError', code: 'timeout', context: { callback: 'outboxStorage', method: 'list' } }]);
    const sent = await online(t);
    expect(sent).toHaveLength(1);
    await expect(publish).resolves.toMatchObject({ offset: 1 });
    client.close();
  });

  it.each([
    ['answers an object, not an array', async () => ({ entries: [] })],
    ['throws synchronously', () => {
      throw new Error('storage gone');
    }],
    ['rejects', async () => Promise.reject(new Error('storage gone'))],
  ])('a list() that %s: listener_error (callback outboxStorage), publishes go on', async (_label, list) => {
    const { storage } = storageListing(list as () => Promise<unknown>);
    const { t, client, errors } = setup({ outboxStorage: storage });
    const publish = client.publish('room', 'a');
    await online(t);
    await expect(publish).resolves.toMatchObject({ offset: 1 });
    expect(errors).toMatchObject([{ code: 'listener_error', context: { callback: 'outboxStorage', method: 'list' } }]);
    client.close();
  });
});

describe('a payload codec whose encode fails', () => {
  const encoders: Array<[string, (d: unknown) => unknown, string]> = [
    ['throws', () => {
      throw new Error('cannot encode');
    }, 'listener_error'],
    ['answers undefined', () => undefined, 'listener_error'],
    ['rejects with a plain Error', () => Promise.reject(new Error('async no')), 'listener_error'],
    ['answers a thenable that rejects', () => ({ then: (_: unknown, reject: (e: unknown) => void) => reject(new Error('thenable no')) }), 'listener_error'],
    ['rejects with a TidewireError (as the built-in codecs do)', () => Promise.reject(new TidewireError('bad_request', 'nope')), 'bad_request'],
  ];

  it.each(encoders)('encode that %s: publish() returns a promise that rejects, nothing is sent, the next publish goes', async (_label, encode, code) => {
    const { t, client } = setup({ codec: { encode: (d) => (d === 'bad' ? encode(d) : d), decode: (d) => d } });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    let result: Promise<unknown> | undefined;
    expect(() => (result = client.publish('room', 'bad'))).not.toThrow();
    await expect(result).rejects.toMatchObject({ code });
    if (code === 'listener_error') await expect(result).rejects.toMatchObject({ context: { callback: 'codec', method: 'encode' } });
    const ok = client.publish('room', 'good');
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.filter((f): f is PublishFrame => f.type === 'publish');
    expect(sent.map((f) => f.data)).toEqual(['good']);
    t.last.push({ type: 'ack', id: sent[0]!.id, epoch: 'e1', offset: 1 });
    await expect(ok).resolves.toMatchObject({ offset: 1 });
    client.close();
  });

  it('a thenable that resolves counts as asynchronous: its value is sent', async () => {
    const { t, client } = setup({ codec: { encode: (d) => (d === 'later' ? { then: (resolve: (v: unknown) => void) => resolve('encoded') } : d), decode: (d) => d } });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    const result = client.publish('room', 'later');
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.filter((f): f is PublishFrame => f.type === 'publish');
    expect(sent.map((f) => f.data)).toEqual(['encoded']);
    t.last.push({ type: 'ack', id: sent[0]!.id, epoch: 'e1', offset: 1 });
    await expect(result).resolves.toMatchObject({ offset: 1 });
    client.close();
  });
});

describe('presence info that JSON cannot encode', () => {
  it.each([
    ['a throwing toJSON', { toJSON: () => {
      throw new Error('no');
    } }],
    ['a BigInt', { n: 10n }],
  ])('enter(info) with %s rejects bad_request; the pacer and the line go on', async (_label, info) => {
    const { t, client, errors } = setup();
    const room = client.channel('t');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(), features: ['presence'] } as ServerFrame);
    await vi.advanceTimersByTimeAsync(0);
    const entering = room.presence.enter(info);
    entering.catch(() => {});
    const published = client.publish('t', 'after');
    await vi.advanceTimersByTimeAsync(0);
    await expect(entering).rejects.toMatchObject({ code: 'bad_request' });
    const sent = t.last.sent.filter((f): f is PublishFrame => f.type === 'publish');
    expect(sent).toHaveLength(1);
    t.last.push({ type: 'ack', id: sent[0]!.id, epoch: 'e1', offset: 1 });
    await expect(published).resolves.toMatchObject({ offset: 1 });
    expect(t.last.sent.some((f) => f.type === 'enter')).toBe(false);
    expect(errors).toEqual([]);
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });
});

describe('an outboxStorage whose writes fail', () => {
  it('a rejecting set is a listener_error naming outboxStorage; the publish is still sent and acked', async () => {
    const storage: OutboxStorage = {
      get: async () => undefined,
      set: async () => Promise.reject(new Error('disk full')),
      delete: async () => {},
      list: async () => [],
    };
    const { t, client, errors } = setup({ outboxStorage: storage });
    const published = client.publish('room', 'a');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.filter((f): f is PublishFrame => f.type === 'publish');
    t.last.push({ type: 'ack', id: sent[0]!.id, epoch: 'e1', offset: 1 });
    await expect(published).resolves.toMatchObject({ offset: 1 });
    expect(errors).toMatchObject([{ code: 'listener_error', context: { callback: 'outboxStorage' } }]);
    expect((errors[0]!.cause as Error).message).toBe('disk full');
    client.close();
  });
});
