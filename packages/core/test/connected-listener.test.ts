import { describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientFrame } from '../src/protocol/frames';
import { connected, fakeTransport } from './fake-transport';

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * App code that runs when the client reports `connected` (a `state` listener, `client.subscribe`)
 * runs after the client took the new line (pacer reset, resubscribes, outbox flush, refresh timer):
 * what it starts is sent, in order, and a `close()` there stops everything the line armed.
 */

/** A client on a fake line whose request bucket is used up (hundreds of channels resubscribing), then the line drops and comes back at once. */
async function drainedThenReconnected() {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 0 });
  for (let i = 0; i < 300; i++) client.channel(`ch${i}`);
  await vi.waitFor(() => expect(t.lines.length).toBe(1));
  t.last.open();
  t.last.push(connected());
  expect(t.last.sent.filter((f) => f.type === 'subscribe').length).toBeLessThan(300); // paced: the bucket is empty
  t.last.drop();
  // Back within a few ms: the bucket has not refilled a token (90/s: one per ~11 ms).
  while (t.lines.length < 2) await new Promise((r) => setImmediate(r));
  return { t, client };
}

const sentOn = (frames: ClientFrame[], type: string, pred: (f: Record<string, unknown>) => boolean) =>
  frames.filter((f) => f.type === type && pred(f as unknown as Record<string, unknown>));

describe('requests made from a `connected` state listener while the request bucket is empty', () => {
  it('a channel acquired there is subscribed (not left scheduled with no pacer job, forever subscribing)', async () => {
    const { t, client } = await drainedThenReconnected();
    let late: ReturnType<typeof client.channel> | undefined;
    client.on('state', ({ to }) => {
      if (to.state === 'connected' && !late) late = client.channel('late');
    });
    t.last.open();
    t.last.push(connected());
    expect(late).toBeDefined();
    // Every other channel's resubscribe does go out (paced): only the late one never does.
    await vi.waitFor(() => expect(sentOn(t.last.sent, 'subscribe', (f) => f.channel !== 'late')).toHaveLength(300), { timeout: 5000, interval: 50 });
    // 300 resubscribes at 90/s: all are out within ~2 s of pacing; give it 5.
    await vi.waitFor(() => expect(sentOn(t.last.sent, 'subscribe', (f) => f.channel === 'late')).toHaveLength(1), { timeout: 5000, interval: 50 });
    client.close();
  });

  it('a publish made there is sent', async () => {
    const { t, client } = await drainedThenReconnected();
    let id: string | undefined;
    client.on('state', ({ to }) => {
      if (to.state === 'connected' && id === undefined) {
        id = 'from-listener';
        client.publish('ch0', 'x', { id }).catch(() => {});
      }
    });
    t.last.open();
    t.last.push(connected());
    await vi.waitFor(() => expect(sentOn(t.last.sent, 'publish', (f) => f.id === 'from-listener')).toHaveLength(1), { timeout: 5000, interval: 50 });
    client.close();
  });
});

describe('client.close() from the `connected` state listener', () => {
  it('leaves no token refresh armed: getToken is not called again on the closed client', async () => {
    const t = fakeTransport();
    const reasons: string[] = [];
    const client = createClient({ url: 'ws://x/tw', transports: [t.factory], getToken: ({ reason }) => (reasons.push(reason), 'tok') });
    client.on('state', ({ to }) => {
      if (to.state === 'connected') client.close();
    });
    client.connect();
    await vi.waitFor(() => expect(t.lines.length).toBe(1));
    t.last.open();
    t.last.push({ ...connected(), expiresIn: 500 } as never);
    expect(client.getSnapshot().state).toBe('closed');
    await delay(700); // refresh would be due at 400 ms
    expect(reasons).toEqual(['connect']);
  });
});
