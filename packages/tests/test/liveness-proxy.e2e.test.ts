import { request, type ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClient, type Client } from '@tidewire/core';
import { eventsource } from '@tidewire/core/eventsource';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { EventSource } from 'eventsource';
import { httpFront } from './helpers/http-front';
import { startServer, until, type TestServer } from './helpers/servers';

/**
 * Liveness is frames, or a frame's worth of bytes still arriving (docs/transports.md, "Liveness by
 * bytes"): a broken proxy in front of a healthy server that answers every poll at once with nothing
 * new, trickles an answer that never ends, or keeps an SSE stream busy with keep-alive comments while
 * nothing comes through, must neither keep the line `connected` while it delivers nothing nor make
 * the client poll in a tight loop. The line ends (`heartbeat_timeout`) and the client reconnects —
 * through the same proxy, which then behaves, and everything published meanwhile arrives once, in order.
 */
type Misbehaviour = (res: ServerResponse) => void;
const misbehaviours: [string, Misbehaviour][] = [
  ['an empty batch at once', (res) => void res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"seq":0}\n')],
  ['an already-applied batch at once', (res) => void res.writeHead(200, { 'content-type': 'application/x-ndjson' }).end('{"seq":1}\n{"type":"ping"}')],
  [
    'an answer trickling a byte at a time, never ending',
    (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write(' ')), 100);
      res.on('close', () => clearInterval(drip));
    },
  ],
];

/**
 * The scenario both proxies play: once `client` is subscribed the proxy breaks (`setBroken(true)`) while
 * 5 messages are published; the line must end with `heartbeat_timeout` (`whileBroken` then checks what
 * the proxy saw); the proxy heals, 5 more are published, and all 10 arrive once, in order.
 */
async function breakThenHeal(t: TestServer, client: Client, setBroken: (broken: boolean) => void, whileBroken: () => void = () => {}): Promise<void> {
  const got: number[] = [];
  const room = client.channel('room');
  room.on('message', (m) => void got.push(m.data as number));
  const ends: unknown[] = [];
  client.subscribe(() => void (client.getSnapshot().state === 'reconnecting' && ends.push(client.getSnapshot().error)));
  try {
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    setBroken(true);
    const publisher = t.client();
    for (let i = 1; i <= 5; i++) await publisher.publish('room', i);
    await until(() => ends.length > 0, 'the line ended', 20_000);
    expect(ends[0]).toMatchObject({ code: 'heartbeat_timeout' });
    whileBroken();
    setBroken(false);
    for (let i = 6; i <= 10; i++) await publisher.publish('room', i);
    await until(() => got.length >= 10, 'every message, after the reconnect', 20_000);
    expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  } finally {
    client.close();
  }
}

describe.each(misbehaviours)('long polling behind a proxy answering every poll with %s', (_, misbehave) => {
  it('ends the line that delivers nothing, polls no faster than its pause, and loses nothing', async () => {
    await using t = await startServer({ heartbeat: 500, logger: { warn: () => {}, error: () => {} } });
    let broken = false;
    let brokenPolls = 0;
    await using proxy = await httpFront(t.url.replace(/^ws/, 'http'), (req, res) => {
      if (!broken || req.method !== 'GET') return false;
      brokenPolls++;
      req.resume();
      misbehave(res);
      return true;
    });
    const client = createClient({ url: proxy.url, transports: [longpoll()], backoff: () => 50 });
    // Before: ~2,000 polls a second. Now a growing pause (up to 1 s) after the second empty answer.
    await breakThenHeal(t, client, (b) => (broken = b), () => expect(brokenPolls).toBeLessThan(60));
  });
});

describe.each([
  ['sse', () => sse()],
  ['eventsource', () => eventsource({ EventSource })],
] as const)('%s behind a proxy that stops passing the stream on and sends keep-alive comments instead', (_, transport) => {
  it('ends the line, reconnects, and loses nothing', async () => {
    await using t = await startServer({ heartbeat: 500, logger: { warn: () => {}, error: () => {} } });
    const target = t.url.replace(/^ws/, 'http');
    let broken = false;
    const timers = new Set<NodeJS.Timeout>();
    await using proxy = await httpFront(target, (req, res) => {
      if (req.method !== 'GET') return false;
      // The stream itself: passed on while the proxy works; once broken, swallowed, with comments instead.
      const upstream = request(target + req.url, { method: 'GET', headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (chunk: Buffer) => void (broken || res.write(chunk)));
        answer.on('end', () => res.end());
        const comments = setInterval(() => void (broken && res.write(':keep-alive\n\n')), 100);
        timers.add(comments);
        res.on('close', () => (clearInterval(comments), answer.destroy()));
      });
      upstream.on('error', () => res.destroy());
      upstream.end();
      return true;
    });
    const client = createClient({ url: proxy.url, transports: [transport()], backoff: () => 50 });
    try {
      await breakThenHeal(t, client, (b) => (broken = b));
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });
});
