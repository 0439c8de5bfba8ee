import { afterEach, describe, expect, it } from 'vitest';
import { MemoryBroker, type Broker, type PublishInput, type PublishResult } from '../src/index';
import { MAX_PUBLISHES_IN_FLIGHT, PublishPipeline } from '../src/publishPipeline';
import { TestClient, startServer } from './helpers';

/** A broker that stores in call order but answers only when the test says so (like Redis, a round trip later). */
function heldBroker() {
  const inner = new MemoryBroker();
  const held: { channel: string; message: PublishInput; release(): void; refuse(error: Error): void }[] = [];
  const subscribes: string[] = [];
  const broker: Broker = {
    publishesInCallOrder: true,
    publish: (channel, message) =>
      new Promise<PublishResult>((resolve, reject) => {
        const stored = inner.publish(channel, message); // the place in the order is taken now
        held.push({ channel, message, release: () => void stored.then(resolve, reject), refuse: reject });
      }),
    subscribe: (channel, since, listener) => {
      subscribes.push(channel);
      return inner.subscribe(channel, since, listener);
    },
    stats: () => inner.stats(),
    close: () => inner.close(),
  };
  return { broker, held, subscribes };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('PublishPipeline', () => {
  it('answers in the order publishes were added, whatever order the broker settles them in', async () => {
    const pipeline = new PublishPipeline();
    const answers: string[] = [];
    const settle: ((v: number) => void)[] = [];
    const fail: ((e: Error) => void)[] = [];
    for (const name of ['a', 'b', 'c']) {
      const stored = new Promise<number>((resolve, reject) => {
        settle.push(resolve);
        fail.push(reject);
      });
      expect(pipeline.add(stored, (v) => answers.push(`${name}:${v}`), (e) => answers.push(`${name}!${(e as Error).message}`))).toBeUndefined();
    }
    const all = pipeline.settled();
    expect(all).toBeInstanceOf(Promise);
    settle[2]!(3);
    fail[1]!(new Error('down'));
    await new Promise((r) => setTimeout(r, 5));
    expect(answers).toEqual([]); // 'a' is not stored yet: nothing may overtake it
    settle[0]!(1);
    await all;
    expect(answers).toEqual(['a:1', 'b!down', 'c:3']);
    expect(pipeline.settled()).toBeUndefined();
  });

  it('asks the queue to wait once MAX_PUBLISHES_IN_FLIGHT are in flight, until the oldest is answered', async () => {
    const pipeline = new PublishPipeline();
    const settle: (() => void)[] = [];
    let room: Promise<void> | undefined;
    for (let i = 0; i < MAX_PUBLISHES_IN_FLIGHT; i++) {
      room = pipeline.add(new Promise<void>((r) => settle.push(r)), () => {}, () => {});
      if (i < MAX_PUBLISHES_IN_FLIGHT - 1) expect(room).toBeUndefined();
    }
    expect(room).toBeInstanceOf(Promise);
    let roomMade = false;
    void room!.then(() => (roomMade = true));
    settle[1]!(); // not the oldest: still full
    await new Promise((r) => setTimeout(r, 5));
    expect(roomMade).toBe(false);
    settle[0]!();
    await room;
    expect(roomMade).toBe(true);
  });
});

describe('a session with a broker that stores in call order', () => {
  it('hands a client its publishes to the broker without waiting for each store, acks them in order, and runs a later subscribe only once they are answered', async () => {
    const { broker, held, subscribes } = heldBroker();
    const { server, url } = await startServer({ broker });
    cleanups.push(() => server.close());
    const c = await TestClient.connect(url);
    cleanups.push(() => c.ws.close());
    for (const id of ['p1', 'p2', 'p3']) c.send({ type: 'publish', id, channel: 'room', data: id });
    c.send({ type: 'subscribe', id: 's', channel: 'room' });
    // All three reached the broker while none was stored: pipelined, not one round trip each.
    await until(() => held.length === 3);
    expect(held.map((h) => h.message.id)).toEqual(['p1', 'p2', 'p3']);
    await new Promise((r) => setTimeout(r, 20));
    expect(subscribes).toEqual([]); // the subscribe waits for the publishes before it
    held[2]!.release();
    held[1]!.refuse(Object.assign(new Error('Redis is away'), { retryAfter: 500 }));
    await new Promise((r) => setTimeout(r, 20));
    expect(c.frames.filter((f) => f.type === 'ack' || f.type === 'error')).toEqual([]); // p1 first
    held[0]!.release();
    await until(() => subscribes.length === 1);
    const answers = c.frames.filter((f) => f.type === 'ack' || f.type === 'error');
    expect(answers.map((f) => [f.type, 'id' in f ? f.id : undefined])).toEqual([
      ['ack', 'p1'],
      ['error', 'p2'],
      ['ack', 'p3'],
    ]);
    expect(answers[1]).toMatchObject({ code: 'server_error', retryAfter: 500 });
    expect(answers.filter((f) => f.type === 'ack').map((f) => (f as { offset: number }).offset)).toEqual([1, 3]);
    expect(await c.next('subscribed')).toMatchObject({ id: 's', channel: 'room', offset: 3 });
  });

  it('without the flag, each publish is stored before the next reaches the broker (as before)', async () => {
    const { broker, held } = heldBroker();
    const { server, url } = await startServer({ broker: { ...broker, publishesInCallOrder: false } });
    cleanups.push(() => server.close());
    const c = await TestClient.connect(url);
    cleanups.push(() => c.ws.close());
    c.send({ type: 'publish', id: 'p1', channel: 'room', data: 1 });
    c.send({ type: 'publish', id: 'p2', channel: 'room', data: 2 });
    await until(() => held.length === 1);
    await new Promise((r) => setTimeout(r, 20));
    expect(held.length).toBe(1);
    held[0]!.release();
    await until(() => held.length === 2);
    held[1]!.release();
    expect((await c.next('ack')).id).toBe('p1');
    expect((await c.next('ack')).id).toBe('p2');
  });
});
