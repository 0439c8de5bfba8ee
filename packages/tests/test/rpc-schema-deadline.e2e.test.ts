import { describe, expect, it } from 'vitest';
import { rpc } from '@tidewire/core/rpc';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * An rpc method's `input` and `output` schemas are app code like its handler (docs/server.md, rpc):
 * each runs within `hookTimeout`, so a schema that never settles (an async refinement waiting on a
 * store that hangs) still gets the call answered `server_error` — protocol §16, every `rpc` is
 * answered exactly once — and does not hold one of the session's in-flight rpc slots for good.
 */
const hanging = { '~standard': { version: 1 as const, vendor: 'test', validate: () => new Promise<never>(() => {}) } };
const throwing = {
  '~standard': {
    version: 1 as const,
    vendor: 'test',
    validate: () => {
      throw new Error('schema bug');
    },
  },
};

describe.each(allTransports)('rpc schemas are bounded like hooks over %s', (_name, transport) => {
  it.each([
    ['input', 'never answers', { input: hanging }],
    ['output', 'never answers', { output: hanging }],
    ['input', 'throws', { input: throwing }],
    ['output', 'throws', { output: throwing }],
  ] as const)('an %s schema that %s answers server_error', async (_which, _how, schemas) => {
    await using t = await startQuietServer(transport, { hookTimeout: 300, rpc: { m: { ...schemas, handler: () => 'ran' } } });
    const client = t.client();
    // The client's own timeout is far longer (publishTimeout, 10 s): the server's answer is what settles it.
    await expect(rpc(client, 'm', { x: 1 })).rejects.toMatchObject({ code: 'server_error' });
  });
});
