import { ChannelView, type Client } from '@tidewire/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestKit, type TestKit } from '../src/index';

/**
 * What `@tidewire/react`'s `useChannel`/`useConnectionState` and `@tidewire/vue`'s composables do,
 * without a framework: a ChannelView and the client's store, re-rendered on every notification
 * (as `useSyncExternalStore` or a Vue ref would). docs/testing.md shows the same tests written
 * with @testing-library/react and @vue/test-utils.
 */
function mountRoom(client: Client, channel: string) {
  const view = new ChannelView<{ text: string }>(client, { channel, history: 10 });
  const frames: string[] = [];
  const render = (): void => {
    const { state } = client.getSnapshot();
    const room = view.getSnapshot();
    const banner = state === 'connected' ? '' : `[${state}] `;
    const gap = room.gap ? `(missed messages: ${room.gap.reason}) ` : '';
    frames.push(`${banner}${gap}${room.messages.map((m) => m.data.text).join(',')}`);
  };
  const unsubscribers = [view.subscribe(render), client.subscribe(render)];
  render();
  return {
    view,
    /** What the component shows now. */
    text: () => frames.at(-1),
    unmount: () => unsubscribers.forEach((off) => off()),
  };
}

let kit: TestKit;
afterEach(() => kit?.close());

describe('a component over the kit (the pattern the React and Vue tests in docs/testing.md use)', () => {
  it('shows messages, a reconnecting banner while the line is down, and everything once after', async () => {
    kit = createTestKit();
    // A fixed backoff: full jitter draws 0 ms about once in 500, and the banner would already be gone.
    const client = kit.client({ backoff: () => 300 });
    const room = mountRoom(client, 'chat:1');
    await kit.settle();
    await room.view.publish({ text: 'hello' });
    await kit.settle();
    expect(room.text()).toBe('hello');

    kit.faults.drop(client);
    await kit.settle();
    expect(room.text()).toBe('[reconnecting] hello');
    await kit.server.publish('chat:1', { text: 'while away' });
    await kit.clock.advanceUntil(() => client.getSnapshot().state === 'connected');
    await kit.settle();
    expect(room.text()).toBe('hello,while away');
    room.unmount();
  });

  it('tells the user about a gap after a restart that lost history', async () => {
    kit = createTestKit();
    const client = kit.client();
    const room = mountRoom(client, 'chat:1');
    await kit.settle();
    await kit.server.publish('chat:1', { text: 'before' });
    await kit.faults.restart({ history: false });
    await kit.clock.advanceUntil(() => client.getSnapshot().state === 'connected');
    await kit.settle();
    expect(room.text()).toBe('(missed messages: epoch_changed) before');
    room.unmount();
  });

  it('shows a publish as failed when the server refuses the user', async () => {
    kit = createTestKit({ authorize: ({ action }) => action !== 'publish' });
    const client = kit.client();
    const room = mountRoom(client, 'chat:1');
    await kit.settle();
    await expect(room.view.publish({ text: 'nope' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(room.text()).toBe('');
    room.unmount();
  });
});
