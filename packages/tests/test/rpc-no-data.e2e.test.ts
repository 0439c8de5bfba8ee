import { describe, expect, it } from 'vitest';
import type { StandardSchemaV1 } from '@tidewire/core';
import { rpc } from '@tidewire/core/rpc';
import { startQuietServer, allTransports } from './helpers/transports';

/**
 * `rpc(client, method)` and `rpc(client, method, undefined)` send no data, which travels as `null`
 * (JSON has no `undefined`; protocol §16): the server's `input` schema and the handler see `null`.
 * The client's own `input` schema sees what the caller passed, so `.optional()` or `.default()`
 * there can fill in "no data"; what it answers is sent, an `undefined` answer as `null` (it used to
 * send a frame with no `data` at all, which the server refused as `bad_request`).
 */
function recording(seen: unknown[], accepts: (v: unknown) => boolean = () => true, output?: (v: unknown) => unknown): StandardSchemaV1 {
  return {
    '~standard': {
      version: 1,
      vendor: 'test',
      validate: (value) => (seen.push(value), accepts(value) ? { value: output ? output(value) : value } : { issues: [{ message: `refused ${String(value)}` }] }),
    },
  };
}

describe.each(allTransports)('over %s: an rpc without data', (_name, transport) => {
  it('is null for the server schema and the handler; the client schema sees what was passed', async () => {
    const serverSchema: unknown[] = [];
    const handler: unknown[] = [];
    await using t = await startQuietServer(transport, {
      rpc: { echo: { input: recording(serverSchema), handler: ({ data }) => (handler.push(data), { got: data }) } },
    });
    const client = t.client();
    const clientSchema: unknown[] = [];
    expect(await rpc(client, 'echo')).toEqual({ got: null });
    expect(await rpc(client, 'echo', undefined)).toEqual({ got: null });
    expect(await rpc(client, 'echo', undefined, { input: recording(clientSchema) })).toEqual({ got: null });
    expect(await rpc(client, 'echo', null, { input: recording(clientSchema) })).toEqual({ got: null });
    expect(clientSchema).toEqual([undefined, null]);
    expect(serverSchema).toEqual([null, null, null, null]);
    expect(handler).toEqual([null, null, null, null]);
  });

  it('a client input schema that answers undefined sends null, which the server takes', async () => {
    const handler: unknown[] = [];
    await using t = await startQuietServer(transport, { rpc: { echo: ({ data }) => (handler.push(data), 'ok') } });
    const client = t.client();
    expect(await rpc(client, 'echo', { drop: true }, { input: recording([], () => true, () => undefined) })).toBe('ok');
    expect(handler).toEqual([null]);
  });

  it('a client input schema with a default fills in a call without data, and the server gets the default', async () => {
    const handler: unknown[] = [];
    await using t = await startQuietServer(transport, { rpc: { echo: ({ data }) => (handler.push(data), 'ok') } });
    const client = t.client();
    const withDefault = recording([], () => true, (v) => v ?? { page: 1 });
    expect(await rpc(client, 'echo', undefined, { input: withDefault })).toBe('ok');
    expect(handler).toEqual([{ page: 1 }]);
  });
});
