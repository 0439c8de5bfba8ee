import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TidewireError } from '../src/errors';
import type { OutboxStorage, StoredPublish } from '../src/outbox-storage';
import type { PublishFrame, ServerFrame } from '../src/protocol/frames';
import { rpc } from '../src/rpc';
import { schemaAnswering, setup } from './app-code-setup';
import { connected, fakeTransport } from './fake-transport';

/**
 * App code on the publishing side and at start answers garbage or never: an outboxStorage
 * (corrupt entries, a list() that hangs or fails, failing writes), a codec whose encode fails,
 * presence info JSON cannot encode, rpc schemas answering garbage. Each is reported with
 * `context.callback`, the request it was for rejects (never throws), everything else goes on.
 */

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
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

describe('rpc schemas that answer garbage', () => {
  it.each([
    ['input answers undefined', { input: schemaAnswering(() => undefined) }, 'bad'],
    ['input throws', { input: schemaAnswering(() => {
      throw new Error('validator boom');
    }) }, 'bad'],
    ['output answers { issues: 5 }', { output: schemaAnswering(() => ({ issues: 5 })) }, 'ok'],
  ])('%s: rpc() rejects listener_error (callback schema), never a bare TypeError', async (_label, options, data) => {
    const { t, client } = setup();
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push({ ...connected(), features: ['rpc'] } as ServerFrame);
    await vi.advanceTimersByTimeAsync(0);
    const call = rpc(client, 'm', data, options as never);
    call.catch(() => {});
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.find((f) => f.type === 'rpc') as { id: string } | undefined;
    if (sent) t.last.push({ type: 'result', id: sent.id, data: 'bad' } as ServerFrame);
    await expect(call).rejects.toMatchObject({ code: 'listener_error', context: { callback: 'schema' } });
    client.close();
  });
});
