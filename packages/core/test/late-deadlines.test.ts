import { beforeEach, describe, expect, it } from 'vitest';
import { createClient } from '../src/client';
import type { ClientOptions } from '../src/client';
import type { StateChange } from '../src/connection-state';
import type { PublishFrame, ServerFrame, SubscribeFrame } from '../src/protocol/frames';
import { connected, fakeTransport } from './fake-transport';
import { BlockableClock, settle } from './blockable-clock';

/**
 * Kind 3 of the delivery issue: a deadline that fires late (the event loop was blocked: a long
 * task, a frozen tab, a laptop waking) must first let I/O that already arrived be processed.
 * The block is simulated with a clock whose overdue timers all run at the end of the block,
 * before the frames that arrived meanwhile are handed in — the order a real event loop uses.
 */

let clock: BlockableClock;
/** Long enough for any grace the timers give (half the lateness, capped at 2 s). */
const afterGrace = () => clock.advance(2000);
const blockEventLoop = (ms: number) => clock.block(ms);

function setup(options: Partial<ClientOptions> = {}) {
  const t = fakeTransport();
  const client = createClient({ url: 'ws://x/tw', transports: [t.factory], backoff: () => 100, clock, ...options });
  const transitions: string[] = [];
  client.on('state', (c: StateChange) => transitions.push(`${c.to.state}${c.to.error ? `:${c.to.error.code}` : ''}`));
  return { t, client, transitions };
}

async function open(t: ReturnType<typeof fakeTransport>, heartbeat = 2000) {
  await settle();
  t.last.open();
  t.last.push(connected(heartbeat));
  await settle();
}

beforeEach(() => {
  clock = new BlockableClock();
});

describe('late deadlines judge fresh information', () => {
  it('publish ack and heartbeat: the ack, ping and messages that arrived during a 4 s block win over the overdue deadlines', async () => {
    const { t, client, transitions } = setup({ publishTimeout: 2500 });
    const ch = client.channel('t');
    const got: number[] = [];
    ch.on('message', (m) => got.push(m.offset));
    await open(t);
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 't', epoch: 'e', offset: 0, recovered: true });
    let settled: string | undefined;
    const publish = ch.publish('hello').then(
      () => (settled = 'resolved'),
      (e: { code: string }) => (settled = `rejected:${e.code}`),
    );
    await settle();
    const sent = t.last.sent.find((f): f is PublishFrame => f.type === 'publish')!;

    await blockEventLoop(4000);
    // What the server sent meanwhile is read now.
    t.last.push({ type: 'ack', id: sent.id, epoch: 'e', offset: 1 });
    t.last.push({ type: 'ping' });
    for (let offset = 1; offset <= 3; offset++) {
      t.last.push({ type: 'message', channel: 't', epoch: 'e', offset, id: offset === 1 ? sent.id : `m${offset}`, data: offset } as ServerFrame);
    }
    await afterGrace();
    await publish;

    expect(settled).toBe('resolved');
    expect(got).toEqual([1, 2, 3]);
    expect(transitions).toEqual(['connecting', 'connected']);
    expect(t.lines).toHaveLength(1);
    client.close();
  });

  it('a silent line is still declared dead after the grace', async () => {
    const { t, client, transitions } = setup();
    client.connect();
    await open(t);
    await blockEventLoop(4000);
    await afterGrace();
    expect(transitions.slice(0, 3)).toEqual(['connecting', 'connected', 'reconnecting:heartbeat_timeout']);
    client.close();
  });

  it('connect deadline: a handshake that arrived during the block connects instead of counting as a failed attempt', async () => {
    const { t, client, transitions } = setup({ connectTimeout: 2000 });
    client.connect();
    await settle();
    t.last.open();
    await blockEventLoop(3000);
    t.last.push(connected());
    await afterGrace();
    expect(transitions).toEqual(['connecting', 'connected']);
    client.close();
  });

  it('line check: a pong that arrived during the block keeps the line', async () => {
    const { t, client, transitions } = setup();
    client.connect();
    await open(t, 60_000);
    await clock.advance(1000); // the last frame is a second old when the check starts
    client.checkConnection();
    expect(t.last.sent.at(-1)).toEqual({ type: 'ping' });
    await blockEventLoop(5000);
    t.last.push({ type: 'pong' });
    await afterGrace();
    expect(transitions).toEqual(['connecting', 'connected']);
    client.close();
  });

  it('reorder window: the missing message that arrived during the block fills the hole without a resubscribe', async () => {
    const { t, client } = setup({ reorderWindow: 500 });
    const ch = client.channel('t');
    const got: number[] = [];
    ch.on('message', (m) => got.push(m.offset));
    await open(t, 60_000);
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    t.last.push({ type: 'subscribed', id: sub.id, channel: 't', epoch: 'e', offset: 0, recovered: true });
    const message = (offset: number) => ({ type: 'message', channel: 't', epoch: 'e', offset, id: `m${offset}`, data: offset }) as ServerFrame;
    t.last.push(message(1));
    t.last.push(message(3));
    await blockEventLoop(2000);
    t.last.push(message(2));
    await afterGrace();
    expect(got).toEqual([1, 2, 3]);
    expect(t.last.sent.filter((f) => f.type === 'subscribe')).toHaveLength(1);
    client.close();
  });

  it('subscribe deadline: a subscribed answer that arrived during the block is taken, not re-requested', async () => {
    const { t, client } = setup({ subscribeTimeout: 1000 });
    const ch = client.channel('t');
    await open(t, 60_000);
    const sub = t.last.sent.find((f): f is SubscribeFrame => f.type === 'subscribe')!;
    await blockEventLoop(3000);
    t.last.push({ type: 'subscribed', id: sub.id, channel: 't', epoch: 'e', offset: 0, recovered: true });
    await afterGrace();
    expect(ch.getSnapshot().state).toBe('subscribed');
    expect(t.last.sent.filter((f) => f.type === 'subscribe')).toHaveLength(1);
    client.close();
  });
});
