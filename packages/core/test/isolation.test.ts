import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import { ChannelView } from '../src/channel-view';
import type { TidewireError } from '../src/errors';
import type { PublishFrame, ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import type { StandardSchemaV1 } from '../src/schema';
import { connected, fakeTransport } from './fake-transport';

/**
 * Kind 1 of the delivery issue: app code must never break delivery. Every call into app code
 * is isolated; a throw is reported on `client.on('error')` as `listener_error` and everything
 * else proceeds as if the listener had returned.
 */

const msg = (offset: number): ServerFrame => ({ type: 'message', channel: 't', epoch: 'e1', offset, id: `m${offset}`, data: offset });

async function setup(options: Partial<ClientOptions> = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 10, ...options });
  const errors: TidewireError[] = [];
  client.on('error', (e) => errors.push(e));
  return { t, client, errors };
}

/** Open the line, answer the handshake and every subscribe sent so far. */
async function accept(t: ReturnType<typeof fakeTransport>, channel = 't') {
  t.last.open();
  t.last.push(connected());
  await vi.advanceTimersByTimeAsync(0);
  for (const sub of t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe')) {
    t.last.push({ type: 'subscribed', id: sub.id, channel, epoch: 'e1', offset: 0, recovered: true });
  }
}

const listenerErrors = (errors: TidewireError[]) => errors.filter((e) => e.code === 'listener_error');

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('listener isolation', () => {
  it('a throwing message listener on one handle: the other handle gets every message, the position advances once, acks settle', async () => {
    const { t, client, errors } = await setup();
    const a = client.channel('t');
    const b = client.channel('t');
    const gotA: number[] = [];
    const gotB: number[] = [];
    const boom = new Error('A fails on 5');
    a.on('message', (m) => {
      gotA.push(m.offset);
      if (m.offset === 5) throw boom;
    });
    b.on('message', (m) => gotB.push(m.offset));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    const publishes = Array.from({ length: 5 }, (_, i) => a.publish(`p${i}`));
    await vi.advanceTimersByTimeAsync(0);
    const sent = t.last.sent.filter((f): f is PublishFrame => f.type === 'publish');
    expect(sent).toHaveLength(5);
    for (let offset = 1; offset <= 20; offset++) t.last.push(msg(offset));
    sent.forEach((p, i) => t.last.push({ type: 'ack', id: p.id, epoch: 'e1', offset: 21 + i }));

    const acks = await Promise.all(publishes);
    expect(acks.map((x) => x.offset)).toEqual([21, 22, 23, 24, 25]);
    const all = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(gotA).toEqual(all);
    expect(gotB).toEqual(all);
    expect(a.position).toEqual({ epoch: 'e1', offset: 20 });
    expect(t.last.closedByClient).toBe(false);
    expect(client.getSnapshot().state).toBe('connected');
    const [reported, ...more] = listenerErrors(errors);
    expect(more).toHaveLength(0);
    expect(reported).toMatchObject({ code: 'listener_error', cause: boom, context: { callback: 'message', event: 'message', channel: 't' } });
    client.close();
  });

  it('gap and channel error listeners are isolated too', async () => {
    const { t, client, errors } = await setup();
    const ch = client.channel('t', { since: { epoch: 'old', offset: 3 } });
    const gaps: string[] = [];
    ch.on('gap', () => {
      throw new Error('gap listener');
    });
    ch.on('gap', (g) => gaps.push(g.reason));
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 't', epoch: 'e1', offset: 0, recovered: false });
    expect(gaps).toEqual(['epoch_changed']);
    expect(ch.getSnapshot().state).toBe('subscribed');

    const channelErrors: string[] = [];
    ch.on('error', () => {
      throw new Error('error listener');
    });
    ch.on('error', (e) => channelErrors.push(e.code));
    t.last.push({ type: 'unsubscribed', channel: 't', code: 'forbidden', message: 'no' } as ServerFrame);
    expect(channelErrors).toEqual(['forbidden']);
    expect(listenerErrors(errors).map((e) => e.context.event)).toEqual(['gap', 'error']);
    client.close();
  });

  it('state listeners and store subscribers (client and channel) are isolated; the connection proceeds', async () => {
    const { t, client, errors } = await setup();
    const states: string[] = [];
    client.on('state', () => {
      throw new Error('state listener');
    });
    client.on('state', (c) => states.push(c.to.state));
    let storeCalls = 0;
    client.subscribe(() => {
      throw new Error('store listener');
    });
    client.subscribe(() => storeCalls++);
    const ch = client.channel('t');
    ch.subscribe(() => {
      throw new Error('channel store listener');
    });
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    expect(states).toEqual(['connecting', 'connected']);
    expect(storeCalls).toBe(2);
    expect(client.getSnapshot().state).toBe('connected');
    expect(ch.getSnapshot().state).toBe('subscribed');
    const callbacks = listenerErrors(errors).map((e) => e.context.callback);
    expect(callbacks.filter((c) => c === 'state')).toHaveLength(2);
    expect(callbacks.filter((c) => c === 'subscribe').length).toBeGreaterThanOrEqual(3); // 2 client + ≥1 channel
    client.close();
  });

  it('a schema whose validate throws: that handle skips the message, the others get it, the next one flows; publish rejects listener_error', async () => {
    const { t, client, errors } = await setup();
    const throwing: StandardSchemaV1<unknown, number> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          if (value === 2) throw new Error('validator bug');
          return { value: value as number };
        },
      },
    };
    const typed = client.channel('t', { schema: throwing });
    const plain = client.channel('t');
    const typedGot: number[] = [];
    const plainGot: number[] = [];
    typed.on('message', (m) => typedGot.push(m.data));
    plain.on('message', (m) => plainGot.push(m.offset));
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    for (let offset = 1; offset <= 3; offset++) t.last.push(msg(offset));
    expect(typedGot).toEqual([1, 3]);
    expect(plainGot).toEqual([1, 2, 3]);
    expect(listenerErrors(errors)).toMatchObject([{ context: { callback: 'schema', channel: 't' } }]);
    await expect(typed.publish(2)).rejects.toMatchObject({ code: 'listener_error', context: { callback: 'schema' } });
    client.close();
  });

  it('a throw inside a client error listener does not recurse: it goes to globalThis.reportError, the other error listeners still run', async () => {
    const reported: unknown[] = [];
    vi.stubGlobal('reportError', (e: unknown) => reported.push(e));
    const { t, client, errors } = await setup();
    client.on('error', () => {
      throw new Error('error listener bug');
    });
    const after: string[] = [];
    client.on('error', (e) => after.push(e.code));
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    t.last.push('not json at all');
    expect(errors.map((e) => e.code)).toEqual(['invalid_frame']);
    expect(after).toEqual(['invalid_frame']);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ code: 'listener_error', context: { event: 'error' } });
    expect(client.getSnapshot().state).toBe('connected');
    client.close();
  });

  it('a throwing backoff is reported and replaced by the default backoff: the client still reconnects', async () => {
    const { t, client, errors } = await setup({
      backoff: () => {
        throw new Error('backoff bug');
      },
    });
    client.connect();
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    t.last.drop({ message: 'cut' });
    expect(client.getSnapshot().state).toBe('reconnecting');
    expect(listenerErrors(errors)).toMatchObject([{ context: { callback: 'backoff' } }]);
    await vi.advanceTimersByTimeAsync(1000); // the default backoff's first delay is below 500 ms
    expect(t.lines).toHaveLength(2);
    expect(client.getSnapshot().state).toBe('connecting');
    client.close();
  });

  it('the same isolated backoff paces channel resubscribes: a refused subscribe still retries', async () => {
    const { t, client, errors } = await setup({
      backoff: () => {
        throw new Error('backoff bug');
      },
    });
    const ch = client.channel('t');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    await vi.advanceTimersByTimeAsync(0);
    const subscribes = () => t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe');
    expect(subscribes()).toHaveLength(1);
    t.last.push({ type: 'error', id: subscribes()[0]!.id, code: 'server_error', message: 'try later' } as ServerFrame);
    expect(listenerErrors(errors)).toMatchObject([{ context: { callback: 'backoff' } }]);
    await vi.advanceTimersByTimeAsync(1000); // the default backoff's first delay is below 500 ms
    expect(subscribes()).toHaveLength(2);
    t.last.push({ type: 'subscribed', id: subscribes()[1]!.id, channel: 't', epoch: 'e1', offset: 0, recovered: true });
    expect(ch.getSnapshot().state).toBe('subscribed');
    client.close();
  });

  it('a throwing ChannelView subscriber (a binding) is reported on the client and does not stop other subscribers', async () => {
    const { t, client, errors } = await setup();
    const view = new ChannelView<number>(client, { channel: 't' });
    let calls = 0;
    view.subscribe(() => calls++);
    view.subscribe(() => {
      throw new Error('binding bug');
    });
    const before = calls; // changes from here on reach both subscribers
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(msg(1));
    expect(view.getSnapshot().messages.map((m) => m.offset)).toEqual([1]);
    expect(calls).toBeGreaterThan(before);
    expect(listenerErrors(errors).length).toBe(calls - before);
    expect(listenerErrors(errors)[0]).toMatchObject({ context: { callback: 'subscribe' }, cause: new Error('binding bug') });
    client.close();
  });
});

describe('the emitter API (eventemitter3 underneath)', () => {
  it('on returns its unsubscribe; once fires once; off and removeAllListeners remove', async () => {
    const { t, client } = await setup();
    const ch = client.channel('t');
    const seen: string[] = [];
    const off = ch.on('message', (m) => seen.push(`on${m.offset}`));
    ch.once('message', (m) => seen.push(`once${m.offset}`));
    const named = (m: { offset: number }) => seen.push(`named${m.offset}`);
    ch.on('message', named);
    await vi.advanceTimersByTimeAsync(0);
    await accept(t);
    t.last.push(msg(1));
    expect(seen).toEqual(['on1', 'once1', 'named1']);
    off();
    expect(ch.off('message', named)).toBe(ch);
    t.last.push(msg(2));
    expect(seen).toEqual(['on1', 'once1', 'named1']);
    ch.on('message', (m) => seen.push(`late${m.offset}`));
    ch.removeAllListeners('message');
    t.last.push(msg(3));
    expect(seen).toHaveLength(3);

    const states: string[] = [];
    const onState = (c: { to: { state: string } }) => states.push(c.to.state);
    client.on('state', onState);
    client.off('state', onState).removeAllListeners('error');
    client.close();
    expect(states).toEqual([]);
  });
});
