import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createClient } from '@tidewire/core';
import { longpoll } from '@tidewire/core/longpoll';
import { httpFront } from './helpers/http-front';
import { startServer, until } from './helpers/servers';

/**
 * Long polling judges a short answer by what it brings (docs/transports.md, "Liveness by bytes"):
 * a broken proxy in front of a healthy server that answers every poll at once with nothing new, or
 * trickles an answer that never ends, must neither keep the line `connected` while it delivers
 * nothing nor make the client poll in a tight loop. The line ends (`heartbeat_timeout`) and the
 * client reconnects — through the same proxy, which then behaves, and everything published
 * meanwhile arrives once, in order.
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
    const got: number[] = [];
    const room = client.channel('room');
    room.on('message', (m) => void got.push(m.data as number));
    try {
      await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
      broken = true;
      const publisher = t.client();
      for (let i = 1; i <= 5; i++) await publisher.publish('room', i);
      await until(() => client.getSnapshot().state !== 'connected', 'the line ended', 20_000);
      const ended = client.getSnapshot();
      expect(ended.error).toMatchObject({ code: 'heartbeat_timeout' });
      // Before: ~2,000 polls a second. Now a growing pause (up to 1 s) after the second empty answer.
      expect(brokenPolls).toBeLessThan(60);
      broken = false;
      for (let i = 6; i <= 10; i++) await publisher.publish('room', i);
      await until(() => got.length >= 10, 'every message, after the reconnect', 20_000);
      expect(got).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      client.close();
    }
  });
});
