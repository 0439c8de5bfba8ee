import { describe, expect, it } from 'vitest';
import type { Client } from '@tidewire/core';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * What the server keeps of app data is its own copy (jsonValue.ts `storedCopy`): an app that
 * mutates an object after handing it over — a state object published as it changes, an object an
 * `onPublish` hook returned or accepted and keeps, data a `server.subscribe` listener edits in place,
 * the user object `authenticate` returned and a presence member carries — does not
 * change what history and replays give a recovering client, which must be what live clients got.
 */
async function history(client: Client, channel: string): Promise<unknown[]> {
  return (await client.channel(channel).history({ direction: 'forward' })).messages.map((m) => m.data);
}

describe.each(allTransports)('app data handed to the server is copied over %s', (_name, transport) => {
  it('server.publish: history and a recent replay give the value as published, not as later mutated', async () => {
    await using t = await startQuietServer(transport);
    const live = t.client().channel('scores');
    const liveData: unknown[] = [];
    live.on('message', (m) => void liveData.push(m.data));
    await until(() => live.getSnapshot().state === 'subscribed', 'live subscribed');

    const state = { count: 1 };
    await t.server.publish('scores', state);
    state.count = 2;
    await t.server.publish('scores', state);
    state.count = 3;
    await until(() => liveData.length === 2, 'live got both');
    expect(liveData).toEqual([{ count: 1 }, { count: 2 }]);
    expect(await history(t.client(), 'scores')).toEqual([{ count: 1 }, { count: 2 }]);

    const replayed: unknown[] = [];
    t.client().channel('scores', { recent: 2 }).on('message', (m) => void replayed.push(m.data));
    await until(() => replayed.length === 2, 'recent replay');
    expect(replayed).toEqual([{ count: 1 }, { count: 2 }]);
  });

  it("onPublish's { data } and a server.subscribe listener's edits do not reach history", async () => {
    const kept: { text: string; stamp?: number }[] = [];
    await using t = await startQuietServer(transport, {
      onPublish: ({ data }) => {
        const replaced = { text: String(data) };
        kept.push(replaced); // e.g. an audit log the app goes on editing
        return { data: replaced };
      },
    });
    const edited: unknown[] = [];
    const sub = await t.server.subscribe('notes', (m) => {
      (m.data as { text: string }).text += ' (edited by a server listener)';
      edited.push(m.data);
    });
    const notes = t.client().channel('notes');
    await notes.publish('first');
    for (const k of kept) k.stamp = 1;
    await until(() => edited.length === 1, 'the server listener ran');
    expect(await history(t.client(), 'notes')).toEqual([{ text: 'first' }]);
    sub.unsubscribe();
  });

  it("onPublish keeping the client's ctx.data (accepting it) cannot rewrite history", async () => {
    const kept: { text: string; stamp?: number }[] = [];
    await using t = await startQuietServer(transport, {
      onPublish: ({ data }) => {
        kept.push(data as { text: string }); // e.g. an audit log the app goes on editing
        return true;
      },
    });
    await t.client().channel('notes').publish({ text: 'first' });
    for (const k of kept) k.stamp = 1;
    expect(await history(t.client(), 'notes')).toEqual([{ text: 'first' }]);
  });

  it('the user object authenticate returned, carried by a presence member, keeps what it entered with', async () => {
    const users = new Map<string, { name: string; role?: string }>();
    await using t = await startQuietServer(transport, {
      authenticate: ({ token }) => {
        const user = users.get(token!) ?? { name: token! };
        users.set(token!, user); // an app's session cache
        return { user };
      },
    });
    await t.client({ token: 'ann' }).channel('room').presence.enter();
    users.get('ann')!.role = 'admin'; // the app edits its cached user later
    const watcher = t.client({ token: 'bob' }).channel('room').presence;
    watcher.subscribe(() => {});
    await until(() => watcher.getSnapshot().state === 'synced', 'synced');
    expect(watcher.getSnapshot().members.map((m) => m.user)).toEqual([{ name: 'ann' }]);
  });
});
