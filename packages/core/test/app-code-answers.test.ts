import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TidewireError } from '../src/errors';
import type { ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import { accept, msg, schemaAnswering, setup } from './app-code-setup';
import { connected } from './fake-transport';

/**
 * App code that answers garbage (not only app code that throws) is isolated as well, and so is a
 * message frame the client cannot use: a schema whose validate returns nothing, `issues` that are
 * not an array or a thenable that is not a native Promise; a codec whose decode throws or answers
 * garbage; a message without data. Each is reported, the message is consumed at its offset and
 * delivery goes on; a publish rejects instead of throwing.
 */

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
