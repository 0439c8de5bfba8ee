import { describe, expect, it, vi } from 'vitest';
import { createClient } from '../src/client';
import type { ClientFrame, ServerFrame } from '../src/protocol/frames';
import { fallbackPlan } from '../src/fallback-plan';
import type { TransportEvents, TransportFactory } from '../src/transport';
import { connected } from './fake-transport';

/** A fake line whose first line ends synchronously inside send() of the first publish (a transport that fails synchronously). */
function failingOnFirstPublish() {
  const lines: { sent: ClientFrame[]; events: TransportEvents }[] = [];
  let failed = false;
  const factory: TransportFactory = {
    name: 'websocket',
    plan: fallbackPlan,
    open(_context, events) {
      const line = { sent: [] as ClientFrame[], events };
      lines.push(line);
      return {
        send: (text) => {
          const frame = JSON.parse(text) as ClientFrame;
          line.sent.push(frame);
          if (frame.type === 'publish' && !failed) {
            failed = true;
            events.onClose({ message: 'failed synchronously while sending' });
          }
        },
        close: () => {},
      };
    },
  };
  return { factory, lines };
}

/**
 * Taking a new line sends (resubscribes, the outbox flush), and a transport can fail synchronously
 * inside a send. The flush used to go on scheduling the publishes after the one whose send ended the
 * line: each stayed `scheduled` with no pacer job, and the next line's flush only takes `queued`
 * ones — never sent until queueTimeout (client-host.ts onConnected_, outbox.ts flush_).
 */
describe('a line that fails synchronously while the client takes it', () => {
  it('every offline publish goes out on the next line', async () => {
    const { factory, lines } = failingOnFirstPublish();
    const client = createClient({ url: 'ws://x/tw', transports: [factory], backoff: () => 5 });
    for (const id of ['a', 'b', 'c']) client.publish('room', id, { id }).catch(() => {});
    await vi.waitFor(() => expect(lines.length).toBe(1));
    lines[0]!.events.onOpen();
    lines[0]!.events.onFrame(JSON.stringify(connected() satisfies ServerFrame));
    await vi.waitFor(() => expect(lines.length).toBe(2));
    lines[1]!.events.onOpen();
    lines[1]!.events.onFrame(JSON.stringify(connected()));
    const published = () => lines[1]!.sent.filter((f) => f.type === 'publish').map((f) => (f as { id: string }).id);
    await vi.waitFor(() => expect(published()).toEqual(['a', 'b', 'c']));
    client.close();
  });
});
