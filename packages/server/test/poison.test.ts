import { describe, expect, it } from 'vitest';
import { MemoryBroker } from '../src/broker/memoryBroker';
import { jsonTextTooDeep } from '../src/depth';
import { isTidewireServerError } from '../src/errors';
import { TestClient, startServer, until } from './helpers';

/** `{"a":{"a":…{"a":1}…}}`, `levels` objects deep, built without recursion. */
function nested(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

/** A frame text nesting `levels` objects inside the publish frame, written by hand (no stringify). */
const deepPublishText = (id: string, levels: number) =>
  `{"type":"publish","id":"${id}","channel":"c","data":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;

describe('poison input is refused at the door', () => {
  it('a publish nested 6,000 levels deep (12 KB) is refused bad_request, never acked, never stored; the session goes on', async () => {
    const { server, url } = await startServer();
    const publisher = await TestClient.connect(url);
    const subscriber = await TestClient.connect(url);
    subscriber.send({ type: 'subscribe', id: 's', channel: 'c' });
    await subscriber.next('subscribed');
    const text = deepPublishText('deep', 6000);
    expect(text.length).toBeGreaterThan(12_000);
    publisher.sendRaw(text);
    expect(await publisher.next('error')).toMatchObject({ id: 'deep', code: 'bad_request', message: expect.stringMatching(/maxDepth \(64 levels\)/) });
    // Within the limit (data at 63 levels: the frame is 64) it is stored and delivered.
    publisher.sendRaw(deepPublishText('ok', 63));
    expect(await publisher.next('ack')).toMatchObject({ id: 'ok', offset: 1 });
    expect(await subscriber.next('message')).toMatchObject({ id: 'ok', offset: 1 });
    publisher.sendRaw(deepPublishText('one-too-deep', 64));
    expect(await publisher.next('error')).toMatchObject({ id: 'one-too-deep', code: 'bad_request' });
    expect(publisher.all('ack')).toHaveLength(1);
    expect(subscriber.all('message')).toHaveLength(1);
    await server.close();
  });

  it('maxDepth is an option; brackets inside strings do not count', async () => {
    expect(jsonTextTooDeep('{"a":"[[[[[[[[{{{{{{\\"[[["}', 1)).toBe(false);
    expect(jsonTextTooDeep('{"a":[[1]]}', 2)).toBe(true);
    const { server, url } = await startServer({ limits: { maxDepth: 4 } });
    const client = await TestClient.connect(url);
    // The frame object is level 1, so data may nest 3 levels.
    client.send({ type: 'publish', id: 'p1', channel: 'c', data: nested(4) });
    expect(await client.next('error')).toMatchObject({ id: 'p1', code: 'bad_request' });
    client.send({ type: 'publish', id: 'p2', channel: 'c', data: nested(3) });
    expect(await client.next('ack')).toMatchObject({ id: 'p2' });
    await server.close();
  });

  it('a frame whose type names an Object.prototype member is unknown, answered bad_request and counted as malformed', async () => {
    const { server, url } = await startServer();
    const client = await TestClient.connect(url);
    const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__'];
    for (const [i, type] of names.entries()) {
      client.sendRaw(JSON.stringify({ type, id: `x${i}`, channel: 'c' }));
      if (i < 9) expect(await client.next('error')).toMatchObject({ id: `x${i}`, code: 'bad_request', message: `unknown frame type ${JSON.stringify(type)}` });
    }
    // The 10th malformed frame closes the connection (protocol §8).
    client.sendRaw(JSON.stringify({ type: 'constructor' }));
    expect(await client.next('close')).toMatchObject({ code: 'protocol_error' });
    expect((await client.closed).code).toBe(4400);
    await server.close();
  });

  it('channel names and ids that name Object.prototype members are ordinary names', async () => {
    const { server, url } = await startServer();
    const client = await TestClient.connect(url);
    for (const channel of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      client.send({ type: 'subscribe', id: channel, channel });
      expect(await client.next('subscribed')).toMatchObject({ id: channel, channel });
      client.send({ type: 'publish', id: '__proto__', channel, data: channel });
      expect(await client.next('ack')).toMatchObject({ id: '__proto__', offset: 1 });
      expect(await client.next('message')).toMatchObject({ channel, data: channel, offset: 1 });
    }
    await server.close();
  });

  it('invalid UTF-8 in a text frame: bad_request once connected, close protocol_error (with the close frame) before', async () => {
    const { server, url } = await startServer();
    const connected = await TestClient.connect(url);
    const invalid = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"\xff\xfe"}
    connected.ws.send(invalid, { binary: false });
    expect(await connected.next('error')).toMatchObject({ code: 'bad_request', message: 'text frame is not valid UTF-8' });
    connected.send({ type: 'ping' });
    await connected.next('pong'); // still open
    const fresh = await TestClient.open(url);
    fresh.ws.send(invalid, { binary: false });
    expect(await fresh.next('close')).toMatchObject({ code: 'protocol_error', message: 'text frame is not valid UTF-8' });
    expect((await fresh.closed).code).toBe(4400); // not ws's bare 1007
    await server.close();
  });

  it('a POST body that is not UTF-8 (SSE, long polling) is refused 400 and answered bad_request, like a WebSocket frame', async () => {
    const { server, url } = await startServer();
    const base = url.replace(/^ws:/, 'http:');
    const invalid = Buffer.concat([Buffer.from('["{\\"type\\":\\"ping\\",\\"x\\":\\"'), Buffer.from([0xc3, 0x28]), Buffer.from('\\"}"]')]);
    // Long polling: open, connect, then the invalid body; the error arrives in the next batch.
    const { sid, secret } = (await (await fetch(`${base}/poll`, { method: 'POST' })).json()) as { sid: string; secret: string };
    const headers = { 'x-tidewire-secret': secret };
    const endpoint = `${base}/poll?sid=${sid}`;
    expect((await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify([JSON.stringify({ type: 'connect', v: 1 })]) })).status).toBe(204);
    const refused = await fetch(endpoint, { method: 'POST', headers, body: invalid });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: { code: 'bad_request', message: 'the body is not valid UTF-8' } });
    const frames: { type: string; code?: string }[] = [];
    let ack = 0;
    while (!frames.some((f) => f.type === 'error')) {
      const batch = (await (await fetch(`${endpoint}&ack=${ack}`, { headers })).json()) as { seq: number; frames: string[] };
      ack = batch.seq;
      frames.push(...batch.frames.map((f) => JSON.parse(f) as { type: string }));
    }
    expect(frames.map((f) => f.type)).toEqual(['connected', 'error']);
    expect(frames[1]).toMatchObject({ code: 'bad_request' });
    expect(server.stats().sessions).toBe(1); // one malformed frame does not end the session
    await server.close();
  });

  it('a binary frame: bad_request once connected, close protocol_error before', async () => {
    const { server, url } = await startServer();
    const connected = await TestClient.connect(url);
    connected.ws.send(Buffer.from(JSON.stringify({ type: 'ping' })), { binary: true });
    expect(await connected.next('error')).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/binary/) });
    const fresh = await TestClient.open(url);
    fresh.ws.send(Buffer.from('{}'), { binary: true });
    expect(await fresh.next('close')).toMatchObject({ code: 'protocol_error' });
    expect((await fresh.closed).code).toBe(4400);
    await server.close();
  });

  it('server publish() refuses data that is not JSON or nests too deep, with invalid_data', async () => {
    const { server } = await startServer();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const data of [cyclic, 10n, undefined, () => 1, nested(6000), nested(64)]) {
      const error = await server.publish('c', data).catch((e: unknown) => e);
      expect(isTidewireServerError(error) && error.code).toBe('invalid_data');
    }
    await expect(server.publish('c', nested(63))).resolves.toMatchObject({ offset: 1 });
    await server.close();
  });
});

/** A message whose data throws when encoded the first `failures` times (a stand-in for any encode failure). */
function poisoned(failures: number): unknown {
  let left = failures;
  return {
    toJSON() {
      if (left-- > 0) throw new Error('cannot encode');
      return 'encoded';
    },
  };
}

describe('a message that cannot be encoded ends that subscription with a typed error, never silence', () => {
  it('live fan-out: the subscriber it fails for gets unsubscribed server_error; the others still get it, and everything after', async () => {
    // The broker's own publish skips the server's checks: it stands in for any message that cannot be encoded.
    const broker = new MemoryBroker();
    const { server, url } = await startServer({ broker });
    const [a, b] = [await TestClient.connect(url), await TestClient.connect(url)];
    for (const c of [a, b]) {
      c.send({ type: 'subscribe', id: 's', channel: 'c' });
      await c.next('subscribed');
    }
    // Fails the first encode only: the first subscriber in line loses it, the second gets it.
    await broker.publish('c', { id: 'm1', data: poisoned(1) });
    expect(await a.next('unsubscribed')).toMatchObject({ channel: 'c', code: 'server_error' });
    expect(await b.next('message')).toMatchObject({ id: 'm1', data: 'encoded' });
    expect(b.all('unsubscribed')).toHaveLength(0);
    // a knows to resubscribe; b's stream goes on.
    await server.publish('c', 'next');
    expect(await b.next('message')).toMatchObject({ data: 'next' });
    a.send({ type: 'subscribe', id: 's2', channel: 'c' });
    await a.next('subscribed');
    await server.publish('c', 'after');
    expect(await a.next('message')).toMatchObject({ data: 'after' });
    await server.close();
  });

  it('replay: a message that cannot be encoded ends the subscription with unsubscribed after subscribed, not a silent stream', async () => {
    const broker = new MemoryBroker();
    const { server, url } = await startServer({ broker });
    const client = await TestClient.connect(url);
    const { epoch } = await broker.publish('c', { id: 'bad', data: poisoned(Infinity) });
    client.send({ type: 'subscribe', id: 's', channel: 'c', since: { epoch, offset: 0 } });
    expect(await client.next('subscribed')).toMatchObject({ recovered: true, offset: 0 });
    expect(await client.next('unsubscribed')).toMatchObject({ channel: 'c', code: 'server_error' });
    await until(() => server.stats().sessions === 1);
    client.send({ type: 'ping' });
    await client.next('pong'); // the session itself is fine
    await server.close();
  });
});
