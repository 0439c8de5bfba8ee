import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { longpoll } from '../src/transports/longpoll';
import { recorder } from './transport-recorder';

const URL_ = 'wss://rt.test/tidewire';
const POLL = 'https://rt.test/tidewire/poll';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const tick = (ms = 10) => new Promise((r) => setTimeout(r, ms));
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !predicate(); i++) await tick(5); // ≥ 10 s: generous under load
  if (!predicate()) throw new Error(`timed out waiting for: ${what}`);
}


type PollAnswer = Response | Promise<Response>;

/**
 * A scripted long-poll server: the test answers each GET from `answer(ack, n)`; it records
 * acks, the most GETs ever in flight at once, POST bodies and DELETEs.
 */
function serve(answer: (ack: number, n: number) => PollAnswer, post: () => PollAnswer = () => new HttpResponse(null, { status: 204 })) {
  const rec = { acks: [] as number[], inFlight: 0, maxInFlight: 0, posts: [] as string[][], auth: [] as (string | null)[], deletes: 0, opens: 0 };
  server.use(
    http.post(POLL, async ({ request }) => {
      rec.auth.push(request.headers.get('authorization'));
      const sid = new URL(request.url).searchParams.get('sid');
      if (!sid) {
        rec.opens++;
        return HttpResponse.json({ sid: 'p1' });
      }
      rec.posts.push((await request.json()) as string[]);
      return post();
    }),
    http.get(POLL, async ({ request }) => {
      rec.auth.push(request.headers.get('authorization'));
      const url = new URL(request.url);
      expect(url.searchParams.get('sid')).toBe('p1');
      const ack = Number(url.searchParams.get('ack'));
      rec.acks.push(ack);
      rec.inFlight++;
      rec.maxInFlight = Math.max(rec.maxInFlight, rec.inFlight);
      try {
        return await answer(ack, rec.acks.length);
      } finally {
        rec.inFlight--;
      }
    }),
    http.delete(POLL, () => {
      rec.deletes++;
      return new HttpResponse(null, { status: 204 });
    }),
  );
  return rec;
}

const batch = (seq: number, frames: string[] = []) => HttpResponse.json({ seq, frames });
const held = (ms: number, res: () => Response) => new Promise<Response>((r) => setTimeout(() => r(res()), ms));

describe('longpoll transport', () => {
  it('opens with a POST, then polls; an empty answer (the server timeout) is re-issued at once with the same ack', async () => {
    const rec = serve((_ack, n) => (n <= 3 ? held(15, () => batch(0)) : held(10_000, () => batch(0))));
    const { log, events } = recorder();
    const t = longpoll().open({ url: URL_, token: 'tok' }, events);
    await until(() => log.opened === 1, 'open');
    await until(() => rec.acks.length >= 4, 'four polls');
    expect(rec.opens).toBe(1);
    expect(rec.acks.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect(rec.maxInFlight).toBe(1);
    expect(rec.auth.every((a) => a === 'Bearer tok')).toBe(true);
    expect(log.frames).toEqual([]);
    t.close();
    await until(() => rec.deletes === 1, 'DELETE on close');
  });

  it('delivers a batch of frames in order and acknowledges it on the next poll; never two polls in flight', async () => {
    const rec = serve((ack) => {
      if (ack === 0) return held(5, () => batch(1, ['a', 'b', 'c']));
      if (ack === 1) return held(5, () => batch(2, ['d']));
      return held(10_000, () => batch(ack));
    });
    const { log, events } = recorder();
    const t = longpoll().open({ url: URL_ }, events);
    await until(() => log.frames.length === 4, 'four frames');
    await until(() => rec.acks.length === 3, 'third poll');
    expect(log.frames).toEqual(['a', 'b', 'c', 'd']);
    expect(rec.acks).toEqual([0, 1, 2]);
    expect(rec.maxInFlight).toBe(1);
    t.close();
  });

  it('re-polls with the old ack after a cut response and takes the re-delivered batch once', async () => {
    const rec = serve((ack, n) => {
      if (n === 1) return batch(1, ['a']);
      if (n === 2) return HttpResponse.error(); // batch 2 lost on the way (proxy cut)
      if (n === 3) return new HttpResponse('{"seq":2,"fra', { headers: { 'content-type': 'application/json' } }); // truncated
      if (n === 4) return batch(2, ['b', 'c']); // re-delivered
      if (n === 5) return batch(2, ['b', 'c']); // a stale duplicate is ignored
      return held(10_000, () => batch(ack));
    });
    const { log, events } = recorder();
    const t = longpoll().open({ url: URL_ }, events);
    await until(() => rec.acks.length >= 6, 'six polls');
    expect(rec.acks).toEqual([0, 1, 1, 1, 2, 2]);
    expect(log.frames).toEqual(['a', 'b', 'c']);
    expect(log.closes).toEqual([]);
    t.close();
  });

  it('gives up after repeated poll failures', async () => {
    serve(() => HttpResponse.error());
    const { log, events } = recorder();
    longpoll().open({ url: URL_ }, events);
    await until(() => log.closes.length === 1, 'closed');
    expect(log.closes[0]!.message).toMatch(/polling failed/);
  });

  it('an unknown session (404/410) closes at once', async () => {
    const rec = serve(() => HttpResponse.json({ error: { code: 'gone' } }, { status: 410 }));
    const { log, events } = recorder();
    longpoll().open({ url: URL_ }, events);
    await until(() => log.closes.length === 1, 'closed');
    expect(rec.acks).toEqual([0]);
    await tick(30);
    expect(log.closes).toHaveLength(1);
  });

  it('batches upstream frames into ordered POSTs, one in flight; a failed POST closes', async () => {
    let release!: () => void;
    let postN = 0;
    const rec = serve(
      (ack) => held(10_000, () => batch(ack)),
      () => {
        postN++;
        if (postN === 1) return new Promise((r) => (release = () => r(new HttpResponse(null, { status: 204 }))));
        return new HttpResponse(null, { status: 500 });
      },
    );
    const { log, events } = recorder();
    const t = longpoll().open({ url: URL_ }, events);
    await until(() => log.opened === 1, 'open');
    t.send('1');
    t.send('2');
    await until(() => rec.posts.length === 1, 'first POST');
    t.send('3');
    t.send('4');
    await tick(30);
    expect(rec.posts).toEqual([['1', '2']]);
    release();
    await until(() => log.closes.length === 1, 'closed by the failed second POST');
    expect(rec.posts).toEqual([['1', '2'], ['3', '4']]);
    expect(log.closes[0]!.message).toMatch(/sending failed/);
  });

  it('a failed open closes without opening', async () => {
    server.use(http.post(POLL, () => HttpResponse.json({ error: { code: 'forbidden' } }, { status: 403 })));
    const { log, events } = recorder();
    longpoll().open({ url: URL_ }, events);
    await until(() => log.closes.length === 1, 'closed');
    expect(log.opened).toBe(0);
    expect(log.closes[0]!.message).toMatch(/could not open/);
  });
});
