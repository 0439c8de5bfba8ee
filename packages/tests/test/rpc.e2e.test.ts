import { describe, expect, it } from 'vitest';
import { isTidewireError, type StandardSchemaV1 } from '@tidewire/core';
import { RpcError as ClientRpcError, rpc } from '@tidewire/core/rpc';
import { RpcError, createServer } from '@tidewire/server';
import { startServer, until } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';
import { allTransports } from './helpers/transports';

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

const transports = allTransports;

/** A hand-written Standard Schema (any validator implementing the interface works, zod included). */
function schema<T>(check: (v: unknown) => v is T, what: string): StandardSchemaV1<T, T> {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => (check(value) ? { value } : { issues: [{ message: `expected ${what}` }] }),
    },
  };
}
const sumInput = schema((v): v is { a: number; b: number } => typeof v === 'object' && v !== null && typeof (v as { a: unknown }).a === 'number' && typeof (v as { b: unknown }).b === 'number', '{ a, b } numbers');
const numberOutput = schema((v): v is number => typeof v === 'number', 'a number');

/** Rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (e: unknown) => e,
  );
}

/** A handler that waits until released, counting its calls. */
function gate() {
  let release!: (value: unknown) => void;
  const state = { calls: 0, released: new Promise((r) => (release = r)) };
  return { state, release: (v: unknown) => release(v), handler: async () => (state.calls++, state.released) };
}

describe.each(transports)('rpc over %s against the real server', (_name, transport) => {
  const start = (options: ServerOptions = {}) =>
    startServer(withTestBroker({ logger: { warn: () => {}, error: () => {} }, ...options }), { transports: [transport()] });

  it('returns what the handler returned, with the user and session from authenticate', async () => {
    await using t = await start({
      authenticate: ({ token }) => ({ user: { name: token } }),
      rpc: {
        whoami: ({ user, session, data }) => ({ user, session: session.id, echo: data }),
        nothing: () => undefined,
        sum: { input: sumInput, output: numberOutput, handler: ({ data }) => (data as { a: number; b: number }).a + (data as { a: number; b: number }).b },
      },
    });
    const client = t.client({ token: 'alice' });
    const answer = await rpc(client, 'whoami', { x: [1, 'two'] });
    const snapshot = client.getSnapshot();
    expect(answer).toEqual({ user: { name: 'alice' }, session: snapshot.state === 'connected' ? snapshot.session : 'not connected', echo: { x: [1, 'two'] } });
    expect(await rpc(client, 'nothing')).toBeNull();
    const typed: number = await rpc(client, 'sum', { a: 2, b: 40 }, { input: sumInput, output: numberOutput });
    expect(typed).toBe(42);
    // Many calls at once: each answer finds its own caller.
    const many = await Promise.all(Array.from({ length: 30 }, (_, i) => rpc(client, 'sum', { a: i, b: 1 })));
    expect(many).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('refusals reach the caller with their code: RpcError with appCode, unknown_method, bad_request, server_error (no internals)', async () => {
    await using t = await start({
      rpc: {
        withdraw: () => {
          throw new RpcError('insufficient_funds', 'balance is 3');
        },
        broken: () => {
          throw new Error('db password is hunter2');
        },
        sum: { input: sumInput, handler: () => 0 },
        lies: { output: numberOutput, handler: () => 'not a number' },
      },
    });
    const client = t.client();
    const refused = await rejection(rpc(client, 'withdraw', { amount: 5 }));
    expect(refused).toBeInstanceOf(ClientRpcError);
    expect(refused).toMatchObject({ code: 'rpc_error', appCode: 'insufficient_funds', message: 'balance is 3' });
    expect(await rejection(rpc(client, 'nope'))).toMatchObject({ code: 'unknown_method' });
    // Not an own method name either: prototype names are unknown, not Object.prototype's.
    expect(await rejection(rpc(client, 'constructor'))).toMatchObject({ code: 'unknown_method' });
    expect(await rejection(rpc(client, 'sum', { a: 'x' }))).toMatchObject({ code: 'bad_request' });
    const internal = await rejection(rpc(client, 'broken'));
    expect(internal).toMatchObject({ code: 'server_error', message: 'internal error' });
    expect(await rejection(rpc(client, 'lies'))).toMatchObject({ code: 'server_error' });
    // The connection is fine after all that.
    expect(client.getSnapshot().state).toBe('connected');
  });

  it('client-side schemas: input refused before sending, output refused on arrival (validation_failed)', async () => {
    let calls = 0;
    await using t = await start({ rpc: { text: () => (calls++, 'text') } });
    const client = t.client();
    expect(await rejection(rpc(client, 'text', { a: 1 } as never, { input: sumInput }))).toMatchObject({ code: 'validation_failed' });
    expect(calls).toBe(0);
    expect(await rejection(rpc(client, 'text', null, { output: numberOutput }))).toMatchObject({ code: 'validation_failed' });
    expect(calls).toBe(1);
  });

  it('times out once sent when no answer comes, and the late answer is ignored', async () => {
    const slow = gate();
    await using t = await start({ rpc: { slow: slow.handler, fast: () => 'ok' } });
    const client = t.client();
    const error = await rejection(rpc(client, 'slow', null, { timeout: 200 }));
    expect(isTidewireError(error) && error.code).toBe('timeout');
    expect(error).toMatchObject({ context: { sent: true, method: 'slow' } });
    slow.release('late');
    expect(await rpc(client, 'fast')).toBe('ok'); // the late result went nowhere and broke nothing
    expect(client.pendingPublishes).toBe(0);
  });

  it('an AbortSignal cancels a sent call, a queued one (never sent), and an already aborted one', async () => {
    const slow = gate();
    let queuedCalls = 0;
    await using t = await start({ rpc: { slow: slow.handler, queued: () => (queuedCalls++, 'ran') } });
    const client = t.client();
    const controller = new AbortController();
    const sent = rpc(client, 'slow', null, { signal: controller.signal });
    await until(() => slow.state.calls === 1, 'the handler runs');
    controller.abort(new Error('user left'));
    const aborted = await rejection(sent);
    expect(aborted).toMatchObject({ code: 'aborted' });
    expect((aborted as Error).cause).toEqual(new Error('user left'));

    // Queued: a second client that is not connected yet (lazy: false → idle until connect()).
    const idle = t.client({ lazy: false });
    const queuedController = new AbortController();
    const queued = rpc(idle, 'queued', null, { signal: queuedController.signal });
    queuedController.abort();
    expect(await rejection(queued)).toMatchObject({ code: 'aborted' });
    idle.connect();
    await until(() => idle.getSnapshot().state === 'connected', 'idle client connected');
    expect(await rpc(idle, 'slow', null, { signal: AbortSignal.abort() }).catch((e: unknown) => e)).toMatchObject({ code: 'aborted' });
    expect(await rpc(client, 'queued')).toBe('ran');
    expect(queuedCalls).toBe(1); // the aborted queued call never reached the server
    slow.release(null);
  });

  it('offline: a call waits in the outbox and is sent once connected; offline "fail" refuses at once', async () => {
    await using t = await start({ rpc: { ping: () => 'pong' } });
    const idle = t.client({ lazy: false });
    const waiting = rpc(idle, 'ping');
    expect(idle.pendingPublishes).toBe(1);
    idle.connect();
    expect(await waiting).toBe('pong');
    const strict = t.client({ lazy: false, offline: 'fail' });
    expect(await rejection(rpc(strict, 'ping'))).toMatchObject({ code: 'not_connected' });
    strict.close();
    expect(await rejection(rpc(strict, 'ping'))).toMatchObject({ code: 'closed' });
  });

  it('at most 100 calls run at once per connection; the rest are refused rate_limited, sent again by the client, and all resolve', async () => {
    const slow = gate();
    // Deadlines far beyond the test, so only the cap (not a handler or call timing out under a
    // loaded machine, which frees a slot) decides how many run.
    await using t = await start({ rpc: { slow: slow.handler }, hookTimeout: 300_000 });
    const client = t.client({ publishTimeout: 300_000 });
    const calls = Array.from({ length: 110 }, () => rpc(client, 'slow'));
    for (const call of calls) call.catch(() => {}); // asserted below; never an unhandled rejection if an earlier expect fails
    // Generous: 110 frames through a loaded machine (the cap is the subject, not the speed).
    await until(() => slow.state.calls >= 100, '100 handlers running', 40_000);
    // The session handles frames in order: once this publish is acked, all 110 calls were seen.
    await client.publish('sync', 1);
    expect(slow.state.calls).toBe(100);
    slow.release('done');
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 110 }, () => 'done'));
    expect(slow.state.calls).toBe(110); // the refused ten ran once each, after the retry
  }, 90_000);

  it('a call on the wire when the line drops rejects "interrupted" and is never sent twice', async () => {
    const slow = gate();
    await using t = await start({ rpc: { slow: slow.handler, ping: () => 'pong' } });
    const client = t.client();
    const call = rpc(client, 'slow');
    await until(() => slow.state.calls === 1, 'the handler runs');
    client.disconnectTransport('test: drop the line');
    expect(await rejection(call)).toMatchObject({ code: 'interrupted' });
    await until(() => client.getSnapshot().state === 'connected', 'reconnected');
    expect(await rpc(client, 'ping')).toBe('pong');
    expect(slow.state.calls).toBe(1);
    slow.release(null);
  });
});
