import { describe, expect, it } from 'vitest';
import { History } from '../src/broker/history';
import { RECHECK_CONCURRENCY } from '../src/accessRecheck';
import { TestClient, sleep, startServer, until } from './helpers';

/** Server memory is bounded per connection and per channel: one test per limit (docs/server.md, limits table). */

describe('per-connection limits', () => {
  it('an id longer than maxIdLength (default 64) is refused bad_request and never reaches the dedupe window', async () => {
    const { server, url } = await startServer();
    const client = await TestClient.connect(url);
    const long = 'x'.repeat(65);
    client.send({ type: 'publish', id: long, channel: 'c', data: 1 });
    expect(await client.next('error')).toMatchObject({ id: long, code: 'bad_request', message: expect.stringMatching(/maxIdLength \(64/) });
    client.send({ type: 'subscribe', id: long, channel: 'c' });
    expect(await client.next('error')).toMatchObject({ id: long, code: 'bad_request' });
    client.send({ type: 'publish', id: 'y'.repeat(64), channel: 'c', data: 1 });
    expect(await client.next('ack')).toMatchObject({ id: 'y'.repeat(64), offset: 1 });
    await server.close();
  });

  it('maxSubscriptions: one channel more is refused forbidden; re-subscribing a held channel and subscribing after an unsubscribe still work', async () => {
    const { server, url } = await startServer({ limits: { maxSubscriptions: 3 } });
    const client = await TestClient.connect(url);
    for (const channel of ['a', 'b', 'c']) {
      client.send({ type: 'subscribe', id: channel, channel });
      await client.next('subscribed');
    }
    client.send({ type: 'subscribe', id: 'd', channel: 'd' });
    expect(await client.next('error')).toMatchObject({ id: 'd', code: 'forbidden', message: expect.stringMatching(/at most 3 subscriptions/) });
    client.send({ type: 'subscribe', id: 'a2', channel: 'a' });
    expect(await client.next('subscribed')).toMatchObject({ id: 'a2' });
    client.send({ type: 'unsubscribe', channel: 'b' });
    client.send({ type: 'subscribe', id: 'd2', channel: 'd' });
    expect(await client.next('subscribed')).toMatchObject({ id: 'd2', channel: 'd' });
    await server.close();
  });

  it('connected announces the rate limits, so clients can pace recovery traffic', async () => {
    const { server, url } = await startServer();
    const client = await TestClient.open(url);
    client.send({ type: 'connect', v: 1 });
    expect(await client.next('connected')).toMatchObject({ limits: { rate: 100, burst: 200 } });
    await server.close();
    const custom = await startServer({ limits: { rate: { perSecond: 2.5, burst: 7 } } });
    const other = await TestClient.open(custom.url);
    other.send({ type: 'connect', v: 1 });
    expect(await other.next('connected')).toMatchObject({ limits: { rate: 2, burst: 7 } });
    await custom.server.close();
  });
});

describe('hook deadlines (hookTimeout)', () => {
  it('an authorize that never answers fails that request with server_error; the frames behind it go on', async () => {
    const { server, url } = await startServer({
      hookTimeout: 100,
      authorize: ({ channel }) => (channel === 'stuck' ? new Promise<boolean>(() => {}) : true),
    });
    const client = await TestClient.connect(url);
    client.send({ type: 'subscribe', id: 's1', channel: 'stuck' });
    client.send({ type: 'publish', id: 'p1', channel: 'free', data: 1 });
    expect(await client.next('error')).toMatchObject({ id: 's1', code: 'server_error', message: expect.stringMatching(/authorize\(\) did not answer within 100 ms/) });
    expect(await client.next('ack')).toMatchObject({ id: 'p1' });
    await server.close();
  });

  it('an authenticate that never answers closes the connection server_error; a stuck refresh answers server_error and the session stays', async () => {
    let hang = true;
    const { server, url } = await startServer({
      hookTimeout: 100,
      authenticate: ({ reason }) => (hang && reason === 'connect' ? new Promise(() => {}) : reason === 'refresh' ? new Promise(() => {}) : { user: 'u' }),
    });
    const stuck = await TestClient.open(url);
    stuck.send({ type: 'connect', v: 1, token: 't' });
    expect(await stuck.next('close')).toMatchObject({ code: 'server_error', message: expect.stringMatching(/authenticate\(\) did not answer/) });
    expect((await stuck.closed).code).toBe(4500);
    hang = false;
    const client = await TestClient.connect(url, 't');
    client.send({ type: 'refresh', id: 'r1', token: 't2' });
    expect(await client.next('error')).toMatchObject({ id: 'r1', code: 'server_error' });
    client.send({ type: 'ping' });
    await client.next('pong');
    await server.close();
  });
});

describe('access re-checked after a refresh', () => {
  it('checks every held channel with at most RECHECK_CONCURRENCY authorize calls at a time, ending exactly the refused ones', async () => {
    let inFlight = 0;
    let most = 0;
    const checked: string[] = [];
    const { server, url } = await startServer({
      limits: { rate: { perSecond: 10_000, burst: 10_000 } },
      authenticate: ({ token }) => ({ user: token }),
      authorize: async ({ user, channel }) => {
        if (user === 'before') return true;
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(2);
        inFlight--;
        checked.push(channel);
        return Number(channel.slice(2)) % 2 === 0; // after the refresh: odd channels are refused
      },
    });
    const client = await TestClient.connect(url, 'before');
    const channels = Array.from({ length: 100 }, (_, i) => `c:${i}`);
    for (const channel of channels) client.send({ type: 'subscribe', id: channel, channel });
    for (let i = 0; i < channels.length; i++) await client.next('subscribed');
    client.send({ type: 'refresh', id: 'r', token: 'after' });
    await client.next('refreshed');
    for (let i = 0; i < 50; i++) await client.next('unsubscribed');
    expect(client.all('unsubscribed').map((f) => [f.channel, f.code]).sort()).toEqual(channels.filter((_, i) => i % 2 === 1).map((c) => [c, 'forbidden']).sort());
    expect([...checked].sort()).toEqual([...channels].sort());
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(RECHECK_CONCURRENCY);
    await server.close();
  });
});

describe('a refresh whose re-checks hang', () => {
  it("does not hold the session's later requests back: a publish after it is answered while the checks still wait", async () => {
    let hang = false;
    const { server, url } = await startServer({
      hookTimeout: 60_000,
      limits: { rate: { perSecond: 10_000, burst: 10_000 } },
      authenticate: ({ token }) => ({ user: token }),
      authorize: ({ channel, action }) => (hang && action === 'subscribe' && channel.startsWith('held:') ? new Promise<boolean>(() => {}) : true),
    });
    const client = await TestClient.connect(url, 'before');
    for (let i = 0; i < 40; i++) client.send({ type: 'subscribe', id: `s${i}`, channel: `held:${i}` });
    for (let i = 0; i < 40; i++) await client.next('subscribed');
    hang = true;
    client.send({ type: 'refresh', id: 'r', token: 'after' });
    await client.next('refreshed');
    client.send({ type: 'publish', id: 'p', channel: 'free', data: 1 });
    expect(await client.next('ack')).toMatchObject({ id: 'p' });
    expect(client.all('unsubscribed')).toEqual([]);
    await server.close();
  });
});

describe('per-channel memory', () => {
  it('history allocates with what it holds, not its capacity, and gives the slots back once trimmed empty', () => {
    const history = new History<number>(1000);
    expect(history.allocated).toBe(0);
    for (let i = 1; i <= 3; i++) history.push({ offset: i, at: i, value: i });
    expect(history.allocated).toBeLessThanOrEqual(4);
    for (let i = 4; i <= 1500; i++) history.push({ offset: i, at: i, value: i });
    expect(history.allocated).toBe(1000);
    expect(history.length).toBe(1000);
    expect(history.after(1400)).toEqual(Array.from({ length: 100 }, (_, k) => 1401 + k));
    history.trimBefore(Infinity);
    expect(history.allocated).toBe(0);
  });

  it('history is bounded by bytes as well as count; a subscriber too far behind is told recovered: false', async () => {
    const history = new History<number>(1000, 1000);
    for (let i = 1; i <= 10; i++) history.push({ offset: i, at: i, value: i, bytes: 300 });
    expect(history.length).toBe(3);
    expect(history.bytes).toBe(900);
    expect(history.after(0)).toEqual([8, 9, 10]);

    const { server, url } = await startServer({ history: { maxBytes: 10_000 } });
    for (let i = 1; i <= 20; i++) await server.publish('c', 'x'.repeat(1000));
    const { epoch } = await server.publish('c', 'last');
    const far = await TestClient.connect(url);
    far.send({ type: 'subscribe', id: 's', channel: 'c', since: { epoch, offset: 2 } });
    expect(await far.next('subscribed')).toMatchObject({ recovered: false, offset: 21 });
    const near = await TestClient.connect(url);
    near.send({ type: 'subscribe', id: 's', channel: 'c', since: { epoch, offset: 18 } });
    expect(await near.next('subscribed')).toMatchObject({ recovered: true, offset: 18 });
    for (const offset of [19, 20, 21]) expect(await near.next('message')).toMatchObject({ offset });
    await server.close();
  });
});

describe('a large replay respects the session slow-consumer limit', () => {
  it('4 MB of history replayed to a client with maxBufferedBytes 64 KiB arrives complete, without slow_consumer', async () => {
    const { server, url } = await startServer({ limits: { maxBufferedBytes: 64 * 1024 }, history: { size: 5000 } });
    const payload = 'y'.repeat(2000);
    let epoch = '';
    for (let i = 0; i < 2000; i++) epoch = (await server.publish('big', payload)).epoch;
    const client = await TestClient.connect(url);
    client.send({ type: 'subscribe', id: 's', channel: 'big', since: { epoch, offset: 0 } });
    expect(await client.next('subscribed')).toMatchObject({ recovered: true, offset: 0 });
    await server.publish('big', 'live');
    await until(() => client.all('message').length === 2001 || client.all('close').length > 0, 60_000);
    expect(client.all('close')).toEqual([]);
    expect(client.all('message').map((m) => m.offset)).toEqual(Array.from({ length: 2001 }, (_, i) => i + 1));
    await server.close();
  });
});
