import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '@tidewire/core/protocol';
import { systemClock } from '../src/clock';
import * as errors from '../src/errors';
import { decidePublish } from '../src/publishHook';
import * as publishHook from '../src/publishHook';
import { runRpc } from '../src/rpc';
import * as rpc from '../src/rpc';

/**
 * An app can load `@tidewire/server` twice — `import` (the ESM build) in one module, `require` (the
 * CommonJS build) in another, as the README promises both work — and then throws an `RpcError` or a
 * `PublishRefusal` of the other copy, or checks a thrown error with the other copy's
 * `isTidewireServerError`. `instanceof` fails across copies; a `Symbol.for` brand does not.
 */
async function secondCopy<M>(path: string): Promise<M> {
  // The query string makes Vite load the file again as a distinct module with its own classes.
  const specifier: string = `${path}?second-copy`;
  return (await import(/* @vite-ignore */ specifier)) as M;
}

const quiet = { warn: () => {}, error: () => {} };

describe("errors from another copy of the server's modules", () => {
  it("an RpcError of the other copy answers rpc_error with the app's code and message", async () => {
    const other = await secondCopy<typeof rpc>('../src/rpc');
    expect(other.RpcError).not.toBe(rpc.RpcError);
    const sent: ServerFrame[] = [];
    await runRpc(
      { type: 'rpc', id: 'r1', method: 'withdraw', data: null },
      {
        methods: {
          withdraw: () => {
            throw new other.RpcError('insufficient_funds', 'balance is 3');
          },
        },
        clock: systemClock,
        logger: quiet,
        timeout: 1000,
        session: () => ({ id: 's', user: null, request: undefined as never }),
        send: (frame) => void sent.push(frame),
      },
    );
    expect(sent).toEqual([{ type: 'error', id: 'r1', code: 'rpc_error', message: 'balance is 3', appCode: 'insufficient_funds' }]);
  });

  it('a PublishRefusal of the other copy refuses with its code and message', async () => {
    const other = await secondCopy<typeof publishHook>('../src/publishHook');
    expect(other.PublishRefusal).not.toBe(publishHook.PublishRefusal);
    const decision = await decidePublish(
      () => {
        throw new other.PublishRefusal('no links, please', 'bad_request');
      },
      { user: null, channel: 'room', data: 'http://x', session: { id: 's', user: null, request: undefined as never } },
      { clock: systemClock, logger: quiet, timeout: 1000 },
    );
    expect(decision).toEqual({ ok: false, code: 'bad_request', message: 'no links, please' });
  });

  it('isTidewireServerError recognises the other copy, both ways, and refuses look-alikes', async () => {
    const other = await secondCopy<typeof errors>('../src/errors');
    expect(new other.TidewireServerError('invalid_channel', 'x') instanceof errors.TidewireServerError).toBe(false);
    expect(errors.isTidewireServerError(new other.TidewireServerError('invalid_channel', 'x'))).toBe(true);
    expect(other.isTidewireServerError(new errors.TidewireServerError('invalid_data', 'x'))).toBe(true);
    for (const value of [new Error('x'), Object.assign(new Error('x'), { code: 'invalid_channel' }), { code: 'invalid_data' }, null, 'x']) {
      expect(errors.isTidewireServerError(value)).toBe(false);
    }
  });
});
