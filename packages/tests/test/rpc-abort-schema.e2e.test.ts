import { describe, expect, it } from 'vitest';
import { rpc } from '@tidewire/core/rpc';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * docs/client.md (RPC): "Cancellation: `signal` (an AbortSignal) rejects with `aborted`"; `input`
 * and `output` take any Standard Schema (may be async). rpc() registers its abort listener only
 * after `await check(input, …)` and does not race `await check(output, …)` against the signal:
 * while an async validator is pending (an async refinement waiting on a slow/hung lookup), aborting
 * does nothing and the call never settles — no timeout applies either (`timeout` counts from sending).
 */
const hanging = { '~standard': { version: 1 as const, vendor: 'test', validate: () => new Promise<never>(() => {}) } };
const within = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then((value) => ({ settled: 'resolved' as const, value }), (error: unknown) => ({ settled: 'rejected' as const, error })), new Promise<{ settled: 'pending' }>((r) => setTimeout(() => r({ settled: 'pending' }), ms))]);

describe.each(allTransports)('rpc abort while a client-side schema is pending, over %s', (_name, transport) => {
  it.each([['input'], ['output']] as const)('an AbortSignal fired while the %s schema is pending rejects aborted', async (which) => {
    let calls = 0;
    await using t = await startServer({ logger: { warn() {}, error() {} }, rpc: { m: { handler: () => (calls++, 'ran') } } }, { transports: [transport()] });
    const client = t.client();
    const controller = new AbortController();
    const call = rpc(client, 'm', 1, { [which]: hanging, signal: controller.signal });
    if (which === 'output') await until(() => calls === 1, 'the handler answered');
    await new Promise((r) => setTimeout(r, 200)); // the answer has reached the client; its output check hangs
    controller.abort(new Error('user navigated away'));
    const outcome = await within(call, 2000);
    expect(outcome.settled).toBe('rejected');
    expect(outcome.settled === 'rejected' && (outcome.error as { code?: string }).code).toBe('aborted');
    if (which === 'input') expect(calls).toBe(0); // never sent: the server never ran it
  });
});
