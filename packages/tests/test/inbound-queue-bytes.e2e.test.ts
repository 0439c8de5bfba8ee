import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type TidewireServer } from '@tidewire/server';
import { websocket } from '@tidewire/core/websocket';
import { openLine } from './helpers/raw-protocol-line';

/**
 * While a hook is slow (here: an `authorize` that hangs — a stalled auth store), a session's
 * requests wait in its queue. Bounded by count alone (1,000 requests), each could be a whole
 * `maxPayload` frame: one client pinned ~64 MiB (measured 65 MB a session). The text waiting is
 * bounded by `limits.maxBufferedBytes` too (4 MiB, as what waits towards the client): past it a
 * request is refused `rate_limited` as the count bound does, and the session stays open.
 */
let server: TidewireServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the inbound request queue is bounded in bytes', () => {
  it('requests waiting behind a hanging authorize stop being accepted past maxBufferedBytes of frames', async () => {
    server = createServer({
      authorize: () => new Promise<boolean>(() => {}), // never answers
      hookTimeout: 600_000,
      logger: { warn: () => {}, error: () => {} },
    });
    const { url } = await server.listen(0);
    const line = await openLine('websocket', url, websocket);
    const data = 'x'.repeat(60_000);
    // 150 frames: within the rate burst (200), so none is refused for the frame rate.
    for (let i = 0; i < 150; i++) line.send({ type: 'publish', id: `p${i}`, channel: 'room', data });
    // 150 × ~60 KB ≈ 9 MB queued, > 2 × maxBufferedBytes (4 MiB): some must be refused.
    const refusal = await line.next((f) => f.type === 'error' && f.code === 'rate_limited', 'a refusal once the queue holds too many bytes', 5000);
    expect(refusal).toMatchObject({ message: expect.stringContaining('maxBufferedBytes') });
    // About 4 MiB of 60 KB frames were accepted (69 or 70); the rest refused, each with its id.
    await line.next(() => line.frames.filter((f) => f.type === 'error').length === 150 - 70 || line.frames.filter((f) => f.type === 'error').length === 150 - 69, 'every refusal', 5000);
    expect(line.ended).toBeUndefined();
    line.close();
  });
});
