import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChannelView } from '../src/channel-view';
import { createClient } from '../src/client';
import type { SubscribeFrame } from '../src/protocol/frames';
import type { StandardSchemaV1 } from '../src/schema';
import { connected, fakeTransport } from './fake-transport';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ChannelView', () => {
  it('opens nothing until observed (SSR) and serves a stable idle snapshot', () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    const view = new ChannelView(client, { channel: 'room' });
    expect(view.getSnapshot()).toBe(view.getServerSnapshot());
    expect(view.getSnapshot().status).toBe('idle');
    expect(t.lines).toHaveLength(0);
    expect(client.getSnapshot().state).toBe('idle');
  });

  it('subscribe/unsubscribe/subscribe (StrictMode) sends exactly one subscribe frame', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    const view = new ChannelView(client, { channel: 'room', history: 2 });
    view.subscribe(() => {})();
    const off = view.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(1);
    t.last.open();
    t.last.push(connected());
    const subs = t.last.sent.filter((f): f is SubscribeFrame => f.type === 'subscribe');
    expect(subs).toHaveLength(1);
    t.last.push({ type: 'subscribed', id: subs[0]!.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
    for (let o = 1; o <= 3; o++) t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: o, id: `${o}`, data: o });
    const snap = view.getSnapshot();
    expect(snap.status).toBe('subscribed');
    expect(snap.messages.map((m) => m.data)).toEqual([2, 3]);
    expect(snap.last?.data).toBe(3);
    expect(view.getSnapshot()).toBe(snap); // stable identity until something changes
    off();
    await vi.advanceTimersByTimeAsync(1);
    expect(t.last.sent.at(-1)).toEqual({ type: 'unsubscribe', channel: 'room' });
    client.close();
  });

  it('switches channels cleanly and holds nothing while disabled', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    const view = new ChannelView(client, { channel: 'a' });
    view.subscribe(() => {});
    await vi.advanceTimersByTimeAsync(1);
    t.last.open();
    t.last.push(connected());
    view.setOptions({ channel: 'b' });
    await vi.advanceTimersByTimeAsync(1);
    view.setOptions({ channel: 'b', enabled: false });
    expect(view.getSnapshot().status).toBe('idle');
    await vi.advanceTimersByTimeAsync(1);
    expect(t.last.sent.map((f) => `${f.type}:${'channel' in f ? f.channel : ''}`)).toEqual([
      'connect:',
      'subscribe:a',
      'subscribe:b',
      'unsubscribe:a',
      'unsubscribe:b',
    ]);
    client.close();
  });

  it('names its channel in the snapshot and validates with the given schema', async () => {
    const t = fakeTransport();
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
    const schema: StandardSchemaV1<unknown, number> = {
      '~standard': { version: 1, vendor: 't', validate: (v) => (typeof v === 'number' ? { value: v } : { issues: [{ message: 'NaN' }] }) },
    };
    const view = new ChannelView(client, { channel: 'room', schema });
    view.subscribe(() => {});
    expect(view.getSnapshot().channel).toBe('room');
    await vi.advanceTimersByTimeAsync(0);
    t.last.open();
    t.last.push(connected());
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e', offset: 0, recovered: true });
    t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: 1, id: 'a', data: 'not a number' });
    t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset: 2, id: 'b', data: 2 });
    expect(view.getSnapshot()).toMatchObject({ error: { code: 'validation_failed' }, last: { data: 2 } });
    expect(view.getSnapshot().messages.map((m) => m.data)).toEqual([2]);
    client.close();
  });
});
