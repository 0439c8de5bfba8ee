import { describe, expect, it } from 'vitest';
import type { Link } from '../src/link';
import { SessionOutput } from '../src/sessionOutput';

const LIMIT = 1000;

/** A session output on a link that keeps everything it is given (a client that reads nothing until `read()`). */
function unreadLink() {
  const sent: string[] = [];
  let buffered = 0;
  const closes: string[] = [];
  const link: Link = {
    send: (text) => {
      sent.push(text);
      buffered += Buffer.byteLength(text);
    },
    close: () => {},
    bufferedBytes: () => buffered,
  };
  const output = new SessionOutput({ link, maxBufferedBytes: LIMIT, closed: () => closes.length > 0, slowConsumer: (message) => void closes.push(message) });
  return { output, closes, sent, read: () => void (buffered = 0) };
}

/** Let the once-per-burst check run. */
const burstEnds = () => new Promise<void>((resolve) => queueMicrotask(resolve));

describe('SessionOutput: a slow consumer is a backlog, not one big frame', () => {
  it('keeps a client whose only queued frame is larger than maxBufferedBytes', async () => {
    const { output, closes } = unreadLink();
    output.sendText('x'.repeat(3 * LIMIT));
    await burstEnds();
    output.sendText('small');
    await burstEnds();
    expect(closes).toEqual([]);
  });

  it('closes it once more than the limit is queued besides that frame', async () => {
    const { output, closes } = unreadLink();
    output.sendText('x'.repeat(3 * LIMIT));
    await burstEnds();
    for (let i = 0; i < 12; i++) output.sendText('y'.repeat(100));
    await burstEnds();
    expect(closes).toEqual([`more than ${LIMIT} bytes queued for this client`]);
  });

  it('counts the allowance in bytes (a frame of 3-byte characters), and forgets it once the client has read', async () => {
    const { output, closes, read } = unreadLink();
    output.sendText('€'.repeat(LIMIT)); // 3 × LIMIT bytes
    await burstEnds();
    expect(closes).toEqual([]);
    read(); // drained: the next check finds the link under the limit and forgets the big frame
    output.sendText('small');
    await burstEnds();
    for (let i = 0; i < 12; i++) output.sendText('y'.repeat(100));
    await burstEnds();
    expect(closes).toHaveLength(1); // 1,200 bytes queued, no big frame in flight any more
  });
});
