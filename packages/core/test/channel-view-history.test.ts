import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client';
import { ChannelView } from '../src/channel-view';
import { fakeTransport, openAndSubscribe } from './fake-transport';

async function subscribedView(history: number) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory] });
  const view = new ChannelView<number>(client, { channel: 'room', history });
  view.subscribe(() => {});
  return { client, view, push: await openAndSubscribe(t) };
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
