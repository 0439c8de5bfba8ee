// The Vitest and Jest examples of docs/testing.md, verbatim but for the import path (the Jest one runs on the Vitest imports above it).
import { afterEach, expect, test } from 'vitest';
import { createTestKit, type TestKit } from '../src/index';

let kit: TestKit;
afterEach(() => kit.close());

test('bob gets what alice sent while his line was down — once, in order', async () => {
  kit = createTestKit({ authenticate: ({ token }) => (token ? { user: token } : null) });
  const alice = kit.client({ token: 'alice' });
  const bob = kit.client({ token: 'bob' });
  const seen: unknown[] = [];
  bob.channel('room:1').on('message', (m) => seen.push(m.data));
  await kit.settle();                                  // bob is subscribed

  kit.faults.drop(bob);
  await alice.publish('room:1', 'while you were away'); // resolves on the server's ack
  await kit.clock.advanceUntil(() => bob.getSnapshot().state === 'connected');
  await kit.settle();

  expect(seen).toEqual(['while you were away']);
});

test('a restart that lost history is a typed gap', async () => {
  kit = createTestKit();
  const client = kit.client();
  const gaps: string[] = [];
  client.channel('feed').on('gap', (g) => gaps.push(g.reason));
  await kit.settle();
  await kit.faults.restart({ history: false });
  await kit.clock.advanceUntil(() => client.getSnapshot().state === 'connected');
  await kit.settle();
  expect(gaps).toEqual(['epoch_changed']);
});

// ── the Jest example ──

test('a publish whose ack was lost with the line is stored once', async () => {
  kit = createTestKit();
  const alice = kit.client();
  const watcher = kit.client();
  const seen: unknown[] = [];
  watcher.channel('orders').on('message', (m) => seen.push(m.data));
  await kit.settle();

  kit.faults.delay(alice, 1000);               // 1 s each way, on the kit clock
  const publish = alice.publish('orders', { id: 7 });
  await kit.clock.advance(1500);               // stored at +1 s; the ack is still on its way
  kit.faults.drop(alice);                      // …and dies with the line
  kit.faults.heal(alice);
  await kit.clock.advanceUntil(() => alice.getSnapshot().state === 'connected');

  await expect(publish).resolves.toMatchObject({ offset: 1 }); // the re-send hit the dedupe window
  await kit.settle();
  expect(seen).toEqual([{ id: 7 }]);
});
