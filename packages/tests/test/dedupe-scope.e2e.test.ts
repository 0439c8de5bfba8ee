import { describe, expect, it } from 'vitest';
import { websocket } from '@tidewire/core/websocket';
import { openLine } from './helpers/raw-protocol-line';
import { startServer } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';

/**
 * Publishes are deduplicated per publisher (PublishInput.scope, server/src/publisherScope.ts): the
 * server's own publishes share one scope; clients another, one per user whose `user` has a stable
 * `id` (or JWT `sub`). A retry — the same user, the same id, on any connection, with any fresh token —
 * is stored once; but no client can claim an id first and make the server drop another publisher's
 * message while answering it as stored (docs/server.md recommends deterministic ids like
 * `order-42-paid` for server publishes, and apps derive ids others can predict). Memory broker
 * here; the Redis broker in dedupe-scope.redis.e2e.test.ts.
 */
const start = () =>
  startServer(withTestBroker({ authenticate: ({ token }) => (token ? { user: { id: token } } : null), authorize: () => true, logger: { warn: () => {}, error: () => {} } }));
const connectAs = (url: string, token: string) => openLine('websocket', url, websocket, { type: 'connect', v: 1, token });
type Page = { messages: { offset: number; data: unknown }[] };
/** The page's data in offset order (a history page without `from` reads newest first). */
const inOrder = (page: Page) => [...page.messages].sort((a, b) => a.offset - b.offset).map((m) => m.data);

describe('deduplication is per publisher', () => {
  it('a server publish with an idempotency id is stored even when a client published that id first', async () => {
    await using t = await start();
    const mallory = await connectAs(t.url, 'mallory');
    mallory.send({ type: 'publish', id: 'order-42-paid', channel: 'orders:42', data: { status: 'refunded' } });
    await mallory.next((f) => f.type === 'ack' && f.id === 'order-42-paid', 'the client publish');
    const receipt = await t.server.publish('orders:42', { status: 'paid' }, { id: 'order-42-paid' });
    const again = await t.server.publish('orders:42', { status: 'paid' }, { id: 'order-42-paid' }); // the server's own retry
    expect(again.offset).toBe(receipt.offset);
    mallory.send({ type: 'history', id: 'h', channel: 'orders:42', limit: 10 });
    const page = (await mallory.next((f) => f.type === 'history_page', 'history')) as unknown as Page;
    mallory.close();
    expect(inOrder(page)).toEqual([{ status: 'refunded' }, { status: 'paid' }]);
    expect(page.messages.find((m) => m.offset === receipt.offset)?.data).toEqual({ status: 'paid' });
  });

  it("another user's publish of the same id does not swallow a client's; the same user's retry, on a new connection, is deduplicated", async () => {
    await using t = await start();
    const mallory = await connectAs(t.url, 'mallory');
    mallory.send({ type: 'publish', id: 'alice-1', channel: 'room', data: 'not from alice' });
    await mallory.next((f) => f.type === 'ack', 'mallory ack');
    const alice = await connectAs(t.url, 'alice');
    alice.send({ type: 'publish', id: 'alice-1', channel: 'room', data: 'from alice' });
    const first = (await alice.next((f) => f.type === 'ack', 'alice ack')) as unknown as { offset: number };
    alice.close();
    const retry = await connectAs(t.url, 'alice'); // reconnected: a new session of the same user
    retry.send({ type: 'publish', id: 'alice-1', channel: 'room', data: 'from alice' });
    const second = (await retry.next((f) => f.type === 'ack', 'retry ack')) as unknown as { offset: number };
    expect(second.offset).toBe(first.offset);
    retry.send({ type: 'history', id: 'h', channel: 'room', limit: 10 });
    const page = (await retry.next((f) => f.type === 'history_page', 'history')) as unknown as Page;
    mallory.close();
    retry.close();
    expect(inOrder(page)).toEqual(['not from alice', 'from alice']);
  });

  it.each([
    ['claims with a fresh exp (user: { sub, exp })', (token: string) => ({ sub: token.split('.')[0], exp: Number(token.split('.')[1]) })],
    ['the token itself (user: token)', (token: string) => token],
  ])('a retry with a fresh token, on a new connection, is deduplicated — user is %s', async (_name, userOf) => {
    await using t = await startServer(withTestBroker({ authenticate: ({ token }) => ({ user: userOf(String(token)) }), logger: { warn: () => {}, error: () => {} } }));
    const before = await connectAs(t.url, 'alice.1000');
    before.send({ type: 'publish', id: 'p1', channel: 'room', data: 'x' });
    const first = (await before.next((f) => f.type === 'ack', 'ack')) as unknown as { offset: number };
    before.close();
    const after = await connectAs(t.url, 'alice.2000'); // reconnected with a refreshed token
    after.send({ type: 'publish', id: 'p1', channel: 'room', data: 'x' });
    const second = (await after.next((f) => f.type === 'ack', 'the retry ack')) as unknown as { offset: number };
    after.close();
    expect(second.offset).toBe(first.offset);
  });

  it.each([
    ['a BigInt id', () => ({ id: 1n })],
    ['a circular object', () => {
      const user: Record<string, unknown> = { name: 'orm entity' };
      user.self = user;
      return user;
    }],
    ['a getter that throws', () => ({ get id(): string { throw new Error('no'); } })],
  ])('a user with %s publishes as any other', async (_name, userOf) => {
    await using t = await startServer(withTestBroker({ authenticate: () => ({ user: userOf() }), logger: { warn: () => {}, error: () => {} } }));
    const line = await connectAs(t.url, 'x');
    line.send({ type: 'publish', id: 'p1', channel: 'room', data: 'x' });
    const answer = await line.next((f) => f.type === 'ack' || f.type === 'error', 'the answer');
    line.close();
    expect(answer).toMatchObject({ type: 'ack' });
  });
});
