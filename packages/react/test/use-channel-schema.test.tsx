// @vitest-environment happy-dom
import type { StandardSchemaV1 } from '@tidewire/core';
import { createClient } from '@tidewire/core';
import { renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { TidewireProvider, useChannel } from '../src/index';
import { recordingWebSocket, startServer, tick, useTeardown } from './helpers';

const teardown = useTeardown();

async function setup() {
  const { server, url } = await startServer();
  const wire = recordingWebSocket();
  const client = createClient({ url, WebSocket: wire.WebSocket });
  teardown.push(() => server.close(), () => client.close());
  const wrapper = ({ children }: { children: ReactNode }) => <TidewireProvider client={client}>{children}</TidewireProvider>;
  return { server, client, wire, wrapper };
}

/** A Standard Schema that accepts only strings. */
const makeStringSchema = (): StandardSchemaV1<unknown, string> => ({
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value: unknown) => (typeof value === 'string' ? { value } : { issues: [{ message: 'not a string' }] }),
  },
});
const stringSchema = makeStringSchema();

/**
 * useChannel's `schema` (core channel-view.ts): `publish` checks it whether or not the channel is
 * held (`enabled: false` holds none), and a new schema object each render (inline) is taken when
 * the channel is acquired instead of switching the view — which reset the snapshot and rendered
 * again, forever.
 */
describe('useChannel schema', () => {
  it('reference: with the channel held, publish() validates against the schema (rejects validation_failed, nothing stored)', async () => {
    const { wrapper } = await setup();
    const { result } = renderHook(() => useChannel<string>('room:schema-on', { schema: stringSchema }), { wrapper });
    await waitFor(() => expect(result.current.status).toBe('subscribed'));
    await expect(result.current.publish(42 as unknown as string)).rejects.toMatchObject({ code: 'validation_failed' });
  });

  it('with enabled: false, publish() still validates against the schema (it stores invalid data instead)', async () => {
    const { wrapper, server } = await setup();
    const { result } = renderHook(() => useChannel<string>('room:schema-off', { schema: stringSchema, enabled: false }), { wrapper });
    const outcome = await result.current.publish(42 as unknown as string).then(
      (ack) => ({ stored: ack.offset }),
      (error: { code: string }) => ({ refused: error.code }),
    );
    expect(await server.publish('room:schema-off', 'the first stored')).toMatchObject({ offset: 1 });
    expect(outcome).toEqual({ refused: 'validation_failed' });
  });

  it('an inline schema (a new object each render) does not resubscribe on every render', async () => {
    const { wrapper, wire } = await setup();
    let renders = 0;
    // Bounded so the test ends: after 200 renders the schema becomes stable.
    renderHook(
      () => {
        renders++;
        return useChannel<string>('room:inline-schema', { schema: renders < 200 ? makeStringSchema() : stringSchema });
      },
      { wrapper },
    );
    await tick(2000);
    const frames = wire.frames.filter((f) => f.type === 'subscribe' || f.type === 'unsubscribe').length;
    expect({ renders: Math.min(renders, 200), frames: Math.min(frames, 3) }).toEqual({ renders: expect.any(Number), frames: 1 });
    expect(renders).toBeLessThan(20);
  });
});
