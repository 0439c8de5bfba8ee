import { describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import { ChannelView } from '../src/channel-view';
import { connected, fakeTransport } from './fake-transport';

async function subscribedView(history: number) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
  const view = new ChannelView<number>(client, { channel: 'room', history });
  view.subscribe(() => {});
  await vi.waitFor(() => expect(t.lines.length).toBeGreaterThan(0));
  t.last.open();
  t.last.push(connected());
  await vi.waitFor(() => expect(t.last.sent.some((f) => f.type === 'subscribe')).toBe(true));
  const sub = t.last.sent.find((f) => f.type === 'subscribe') as { id: string };
  t.last.push({ type: 'subscribed', id: sub.id, channel: 'room', epoch: 'e', offset: 0, recovered: false } as never);
  const push = (offset: number) => t.last.push({ type: 'message', channel: 'room', epoch: 'e', offset, id: `m${offset}`, data: offset } as never);
  return { client, view, push };
}

describe('ChannelView (useChannel in React and Vue) keeps at most `history` messages', () => {
  it('history: 1 keeps only the last message', async () => {
    const { client, view, push } = await subscribedView(1);
    for (let i = 1; i <= 5; i++) push(i);
    expect(view.getSnapshot().last?.data).toBe(5);
    expect(view.getSnapshot().messages.map((m) => m.data)).toEqual([5]);
    client.close();
  });

  it('lowering history to 0 with setOptions keeps none', async () => {
    const { client, view, push } = await subscribedView(50);
    for (let i = 1; i <= 3; i++) push(i);
    view.setOptions({ channel: 'room', history: 0 });
    expect(view.getSnapshot().messages).toEqual([]);
    client.close();
  });
});
