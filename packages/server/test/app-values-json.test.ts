import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '@tidewire/core/protocol';
import { MemoryBroker } from '../src/broker/memoryBroker';
import { systemClock } from '../src/clock';
import { isTidewireServerError } from '../src/errors';
import { jsonTextOf } from '../src/jsonValue';
import { PublishRefusal, decidePublish } from '../src/publishHook';
import { runRpc, type RpcHost } from '../src/rpc';
import { TestClient, startServer } from './helpers';

/** A value from app code that travels to clients is JSON, or it is refused — checked in one place (jsonValue.ts). */

/** `levels` objects nested, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

const cyclic: Record<string, unknown> = {};
cyclic.self = cyclic;

/** What app code may hand the server that has no JSON form (or nests too deep for the default maxDepth, 64). */
const NOT_JSON: readonly (readonly [name: string, value: unknown])[] = [
  ['a function', () => 1],
  ['a symbol', Symbol('s')],
  ['a BigInt', 10n],
  ['a BigInt inside', { n: [1n] }],
  ['a cycle', cyclic],
  ['a toJSON answering undefined', { toJSON: () => undefined }],
  ['64 levels deep', nested(64)],
  ['6,000 levels deep', nested(6000)],
];

/** A logger that records what it is told. */
function recordingLogger() {
  const errors: string[] = [];
  return { errors, logger: { warn: () => {}, error: (message: string) => void errors.push(message) } };
}

describe('jsonTextOf: the one rule', () => {
  it.each(NOT_JSON)('refuses %s with invalid_data naming the value', (_name, value) => {
    let caught: unknown;
    try {
      jsonTextOf(value, 63, 'the thing');
    } catch (e) {
      caught = e;
    }
    expect(isTidewireServerError(caught) && caught.code).toBe('invalid_data');
    expect((caught as Error).message).toMatch(/^the thing (is not JSON|nests deeper than 63 levels)/);
  });

  it('gives the text every subscriber gets: nested functions and undefined fields dropped, NaN as null, a Date as its string', () => {
    expect(jsonTextOf({ f: () => 1, u: undefined, n: NaN, d: new Date(0) }, 63, 'x')).toBe('{"n":null,"d":"1970-01-01T00:00:00.000Z"}');
    expect(jsonTextOf(nested(63), 63, 'x')).toMatch(/^\{"a":/);
    expect(jsonTextOf(null, 1, 'x')).toBe('null');
  });
});

describe('onPublish answering data that is not JSON', () => {
  const deps = (logger: ReturnType<typeof recordingLogger>['logger'], maxDepth?: number) => ({
    clock: systemClock,
    logger,
    timeout: 1000,
    ...(maxDepth !== undefined && { maxDepth }),
  });
  const ctx = { user: null, channel: 'room', data: 'sent', session: { id: 's', user: null, request: {} as never } };

  it.each(NOT_JSON)('%s: refused server_error "internal error", logged once', async (_name, value) => {
    const { errors, logger } = recordingLogger();
    const decision = await decidePublish(() => ({ data: value }), ctx, deps(logger));
    expect(decision).toEqual({ ok: false, code: 'server_error', message: 'internal error' });
    expect(errors).toEqual(['tidewire: onPublish() returned data that cannot be sent ("room")']);
  });

  it('undefined is stored as null, bytes as the envelope, the data as sent unchanged (a copy); nothing is logged', async () => {
    const { errors, logger } = recordingLogger();
    expect(await decidePublish(() => ({ data: undefined }), ctx, deps(logger))).toEqual({ ok: true, data: null });
    expect(await decidePublish(() => ({ data: new Uint8Array([1, 2, 3]) }), ctx, deps(logger))).toEqual({ ok: true, data: { $b64: 'AQID' } });
    const sent = { text: 'hi' };
    const same = await decidePublish(({ data }) => ({ data }), { ...ctx, data: sent }, deps(logger));
    expect(same.ok && same.data).toEqual(sent);
    expect(same.ok && same.data).not.toBe(sent); // the server's own copy: the hook may keep and edit `sent`
    expect(errors).toEqual([]);
  });

  it('follows limits.maxDepth: data may nest one level less than a frame', async () => {
    const { logger } = recordingLogger();
    expect(await decidePublish(() => ({ data: nested(3) }), ctx, deps(logger, 4))).toMatchObject({ ok: true });
    expect(await decidePublish(() => ({ data: nested(4) }), ctx, deps(logger, 4))).toMatchObject({ ok: false, code: 'server_error' });
  });
});

describe('PublishRefusal cannot carry what its error frame cannot', () => {
  it('an unknown code or a rate_limited wait that is not a finite number throws TypeError; a wait is capped at 2^31 - 1 ms', () => {
    expect(() => new PublishRefusal('no', 'spam' as never)).toThrow(TypeError);
    for (const retryAfter of [NaN, Infinity, -Infinity, 'soon']) {
      expect(() => new PublishRefusal('slow', 'rate_limited', { retryAfter: retryAfter as number })).toThrow(TypeError);
    }
    expect(new PublishRefusal('slow', 'rate_limited', { retryAfter: 1e300 }).retryAfter).toBe(2 ** 31 - 1);
    expect(new PublishRefusal('slow', 'rate_limited', { retryAfter: '500' as never }).retryAfter).toBe(500);
    // Only a rate_limited refusal carries a wait: another ignores it, as before.
    expect(new PublishRefusal('no', 'forbidden', { retryAfter: NaN }).retryAfter).toBeUndefined();
  });
});

describe('an rpc handler answering a result that is not JSON', () => {
  function host(result: unknown, maxDepth?: number) {
    const { errors, logger } = recordingLogger();
    const sent: ServerFrame[] = [];
    const rpcHost: RpcHost = {
      methods: { m: () => result },
      clock: systemClock,
      logger,
      timeout: 1000,
      ...(maxDepth !== undefined && { maxDepth }),
      session: () => ({ id: 's', user: null, request: {} as never }),
      send: (frame) => void sent.push(frame),
    };
    return { errors, sent, rpcHost };
  }

  it.each(NOT_JSON)('%s: answered server_error "internal error" (not left to time out), logged once', async (_name, value) => {
    const { errors, sent, rpcHost } = host(value);
    await runRpc({ type: 'rpc', id: 'r1', method: 'm', data: null }, rpcHost);
    expect(sent).toEqual([{ type: 'error', id: 'r1', code: 'server_error', message: 'internal error' }]);
    expect(errors).toEqual(['tidewire: rpc "m" returned a result that cannot be sent']);
  });

  it('undefined answers null, bytes the envelope; limits.maxDepth is followed', async () => {
    for (const [result, data] of [
      [undefined, null],
      [new Uint8Array([1, 2, 3]), { $b64: 'AQID' }],
    ] as const) {
      const { sent, rpcHost } = host(result);
      await runRpc({ type: 'rpc', id: 'r', method: 'm', data: null }, rpcHost);
      expect(sent).toEqual([{ type: 'result', id: 'r', data }]);
    }
    const shallow = host(nested(3), 4);
    await runRpc({ type: 'rpc', id: 'r', method: 'm', data: null }, shallow.rpcHost);
    expect(shallow.sent[0]).toMatchObject({ type: 'result' });
    const deep = host(nested(4), 4);
    await runRpc({ type: 'rpc', id: 'r', method: 'm', data: null }, deep.rpcHost);
    expect(deep.sent[0]).toMatchObject({ type: 'error', code: 'server_error' });
  });
});

describe('over a real server (every frame the raw client gets is validated)', () => {
  it('onPublish: each non-JSON answer is refused server_error and stored nowhere; the next publish is offset 1, delivered and in history', async () => {
    const { errors, logger } = recordingLogger();
    const byName = new Map(NOT_JSON);
    const { server, url } = await startServer({ logger, onPublish: ({ data }) => (typeof data === 'string' && byName.has(data) ? { data: byName.get(data) } : undefined) });
    const publisher = await TestClient.connect(url);
    const subscriber = await TestClient.connect(url);
    subscriber.send({ type: 'subscribe', id: 's', channel: 'room' });
    await subscriber.next('subscribed');
    for (const [i, [name]] of NOT_JSON.entries()) {
      publisher.send({ type: 'publish', id: `p${i}`, channel: 'room', data: name });
      expect(await publisher.next('error')).toEqual({ type: 'error', id: `p${i}`, code: 'server_error', message: 'internal error' });
    }
    publisher.send({ type: 'publish', id: 'ok', channel: 'room', data: 'fine' });
    expect(await publisher.next('ack')).toMatchObject({ id: 'ok', offset: 1 });
    expect(await subscriber.next('message')).toMatchObject({ offset: 1, data: 'fine' });
    subscriber.send({ type: 'history', id: 'h', channel: 'room', limit: 100 });
    expect((await subscriber.next('history_page')).messages).toEqual([{ offset: 1, id: 'ok', data: 'fine' }]);
    expect(errors).toHaveLength(NOT_JSON.length);
    expect(subscriber.all('message')).toHaveLength(1);
    await server.close();
  });

  it('rpc: a result that is not JSON answers server_error; the next call is answered', async () => {
    const byName = new Map(NOT_JSON);
    const { server, url } = await startServer({ rpc: { give: ({ data }) => byName.get(data as string) ?? 'fine' } });
    const client = await TestClient.connect(url);
    for (const [i, [name]] of NOT_JSON.entries()) {
      client.send({ type: 'rpc', id: `r${i}`, method: 'give', data: name });
      expect(await client.next('error')).toEqual({ type: 'error', id: `r${i}`, code: 'server_error', message: 'internal error' });
    }
    client.send({ type: 'rpc', id: 'ok', method: 'give', data: 'nothing odd' });
    expect(await client.next('result')).toEqual({ type: 'result', id: 'ok', data: 'fine' });
    await server.close();
  });

  it('presence: a session whose user is not JSON cannot enter (server_error, logged); watchers see only members that are', async () => {
    const { errors, logger } = recordingLogger();
    const users: Record<string, unknown> = { big: { id: 10n }, fn: () => 1, ok: { id: 'ada' } };
    const { server, url } = await startServer({ logger, authenticate: ({ token }) => ({ user: users[token ?? 'ok'] }) });
    const watcher = await TestClient.connect(url, 'ok');
    watcher.send({ type: 'presence_subscribe', id: 'w', channel: 'room' });
    expect(await watcher.next('presence_snapshot')).toMatchObject({ members: [] });
    for (const token of ['big', 'fn']) {
      const odd = await TestClient.connect(url, token);
      odd.send({ type: 'enter', id: 'e', channel: 'room' });
      expect(await odd.next('error')).toEqual({ type: 'error', id: 'e', code: 'server_error', message: 'internal error' });
    }
    const fine = await TestClient.connect(url, 'ok');
    fine.send({ type: 'enter', id: 'e', channel: 'room', info: { at: 1 } });
    await fine.next('entered');
    expect(await watcher.next('presence_change')).toMatchObject({ action: 'join', member: { user: { id: 'ada' }, info: { at: 1 } } });
    expect(watcher.all('presence_change')).toHaveLength(1);
    expect(errors.filter((m) => m.includes('"enter"'))).toHaveLength(2);
    await server.close();
  });

  it('authenticate: an expiresAt that is not a finite number closes the connect unauthorized (logged) and fails a refresh; a Date works', async () => {
    const { errors, logger } = recordingLogger();
    const expiries: Record<string, unknown> = { nan: NaN, inf: Infinity, text: 'tomorrow', big: 10n ** 15n, date: new Date(Date.now() + 60_000), far: Number.MAX_VALUE };
    const { server, url } = await startServer({ logger, authenticate: ({ token }) => ({ user: token, expiresAt: expiries[token ?? ''] as number }) });
    for (const token of ['nan', 'inf', 'text', 'big']) {
      const client = await TestClient.open(url);
      client.send({ type: 'connect', v: 1, token });
      expect(await client.next('close')).toMatchObject({ code: 'unauthorized' });
    }
    expect(errors.filter((m) => m.includes('expiresAt'))).toHaveLength(4);
    const dated = await TestClient.connect(url, 'date');
    expect(dated.all('connected')[0]!.expiresIn).toBeGreaterThan(50_000);
    // Finite but beyond what the wire carries exactly: announced as the largest safe integer.
    const far = await TestClient.connect(url, 'far');
    expect(far.all('connected')[0]!.expiresIn).toBe(Number.MAX_SAFE_INTEGER);
    far.send({ type: 'refresh', id: 'r', token: 'nan' });
    expect(await far.next('error')).toMatchObject({ id: 'r', code: 'unauthorized' });
    far.send({ type: 'refresh', id: 'r2', token: 'date' });
    expect((await far.next('refreshed')).expiresIn).toBeGreaterThan(50_000);
    await server.close();
  });

  it('history: a page the broker hands back with a message without data answers server_error (logged), not an invalid page', async () => {
    const { errors, logger } = recordingLogger();
    const broker = new MemoryBroker();
    const { server, url } = await startServer({ logger, broker });
    await server.publish('room', 'first');
    await broker.publish('room', { id: 'no-data', data: undefined }); // the broker's own publish skips the server's checks
    const client = await TestClient.connect(url);
    client.send({ type: 'history', id: 'h', channel: 'room', limit: 10 });
    expect(await client.next('error')).toEqual({ type: 'error', id: 'h', code: 'server_error', message: 'internal error' });
    expect(errors).toEqual(['tidewire: handling a "history" frame failed']);
    // A page that does not reach it is answered.
    client.send({ type: 'history', id: 'h2', channel: 'room', limit: 10, before: 2 });
    expect((await client.next('history_page')).messages).toEqual([expect.objectContaining({ offset: 1, data: 'first' })]);
    await server.close();
  });

  it('onPublish throwing a PublishRefusal it cannot send (unknown code) answers server_error, not an invalid frame', async () => {
    const { server, url } = await startServer({
      onPublish: () => {
        throw new PublishRefusal('no', 'spam' as never);
      },
    });
    const client = await TestClient.connect(url);
    client.send({ type: 'publish', id: 'p', channel: 'room', data: 1 });
    expect(await client.next('error')).toEqual({ type: 'error', id: 'p', code: 'server_error', message: 'internal error' });
    await server.close();
  });
});

describe('a configured limits.maxDepth reaches every check of app values (not only the default 64)', () => {
  it('onPublish data, an rpc result and a presence user 8 levels deep are refused with maxDepth 8; 7 levels pass', async () => {
    const { server, url } = await startServer({
      limits: { maxDepth: 8 },
      authenticate: ({ token }) => ({ user: token === 'deep' ? nested(8) : nested(7) }),
      onPublish: ({ data }) => ({ data: nested(data as number) }),
      rpc: { give: ({ data }) => nested(data as number) },
    });
    const client = await TestClient.connect(url);
    client.send({ type: 'publish', id: 'deep', channel: 'room', data: 8 });
    expect(await client.next('error')).toMatchObject({ id: 'deep', code: 'server_error' });
    client.send({ type: 'publish', id: 'fits', channel: 'room', data: 7 });
    expect(await client.next('ack')).toMatchObject({ id: 'fits', offset: 1 });
    client.send({ type: 'rpc', id: 'r8', method: 'give', data: 8 });
    expect(await client.next('error')).toMatchObject({ id: 'r8', code: 'server_error' });
    client.send({ type: 'rpc', id: 'r7', method: 'give', data: 7 });
    expect(await client.next('result')).toMatchObject({ id: 'r7' });
    const deep = await TestClient.connect(url, 'deep');
    deep.send({ type: 'enter', id: 'e', channel: 'room' });
    expect(await deep.next('error')).toMatchObject({ id: 'e', code: 'server_error' });
    client.send({ type: 'enter', id: 'e', channel: 'room' });
    await client.next('entered');
    await server.close();
  });
});
