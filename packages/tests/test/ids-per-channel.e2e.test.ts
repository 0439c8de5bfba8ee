import { describe, expect, it } from 'vitest';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

/**
 * Publish ids are per channel (the dedupe window, the ack): the same id on another channel is
 * another message. Two features that recognise a message by its id must therefore look at its
 * channel too — `server.publish`'s `except` (docs/server.md: the excepted session "gets the
 * position but not the message") and the client's `echo: false` (docs/client.md: "Other clients
 * … are delivered as usual"). Both used the id alone, and swallowed another channel's message that
 * happened to share it (an app's idempotency key such as `order-42` on two channels).
 */
describe.each(allTransports)('ids are per channel, over %s', (_name, transport) => {
  it('server.publish except: only that channel\'s message is a skip for the excepted session', async () => {
    const sessions: string[] = [];
    await using t = await startServer(
      {
        authorize: ({ session }) => {
          sessions.push(session.id);
          return true;
        },
        logger: { warn: () => {}, error: () => {} } },
      { transports: [transport()] },
    );
    const watcher = t.client();
    const room = watcher.channel('room:b');
    const got: unknown[] = [];
    room.on('message', (m) => void got.push(m.data));
    await until(() => room.getSnapshot().state === 'subscribed', 'subscribed');
    const [session] = sessions;
    await t.server.publish('audit', { order: 42 }, { id: 'order-42', except: session });
    await t.client({ transports: [transport()] }).publish('room:b', { text: 'hello' }, { id: 'order-42' });
    await t.server.publish('room:b', 'hidden from the watcher', { id: 'x', except: session });
    await t.server.publish('room:b', 'last');
    await until(() => got.includes('last'), 'the last message');
    expect(got).toEqual([{ text: 'hello' }, 'last']);
  });

  it('echo: false skips this client\'s own messages only: another channel\'s message with the same id is delivered', async () => {
    await using t = await startServer({ logger: { warn: () => {}, error: () => {} } }, { transports: [transport()] });
    const client = t.client({ echo: false });
    const inbox = client.channel('inbox');
    const got: unknown[] = [];
    inbox.on('message', (m) => void got.push(m.data));
    await until(() => inbox.getSnapshot().state === 'subscribed', 'subscribed');
    await client.publish('audit', { order: 42 }, { id: 'order-42' }); // not followed here
    await t.server.publish('inbox', { shipped: 42 }, { id: 'order-42' });
    await t.client().publish('inbox', 'from another client', { id: 'order-42-b' });
    await client.publish('inbox', 'mine'); // own: not delivered
    await t.server.publish('inbox', 'last');
    await until(() => got.includes('last'), 'the last message');
    expect(got).toEqual([{ shipped: 42 }, 'from another client', 'last']);
  });
});
