import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '@tidewire/core';
import { createServer, type ServerOptions, type TidewireServer } from '@tidewire/server';
import { injectedWebSocket } from './helpers/env';
import { until } from './helpers/servers';

/**
 * App code the server calls without awaiting it may be `async` — docs/server.md's own bot is an
 * async `server.subscribe` listener awaiting `server.publish`. A rejection is reported through the
 * server's logger like a sync throw, and never becomes an unhandled rejection (which ends a Node
 * process by default).
 */
const opened: { server: TidewireServer; client?: Client }[] = [];
afterEach(async () => {
  for (const { server, client } of opened.splice(0)) {
    client?.close();
    await server.close();
  }
});

/** Collects `unhandledRejection`s until `stop()`, which first lets pending ones be reported (one macrotask). */
function watchUnhandled(): { stop(): Promise<unknown[]> } {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  return {
    async stop() {
      await new Promise((resolve) => setImmediate(resolve));
      process.off('unhandledRejection', onUnhandled);
      return unhandled;
    },
  };
}

async function serve(options: ServerOptions = {}) {
  const logged: string[] = [];
  const server = createServer({ ...options, logger: { warn() {}, error: (m: string) => void logged.push(m) } });
  const { url } = await server.listen(0);
  const client = createClient({ url, WebSocket: injectedWebSocket });
  opened.push({ server, client });
  return { server, client, logged };
}

describe('async app code that rejects', () => {
  it('a bot (async server.subscribe listener) whose publish is refused: logged, delivery goes on, no unhandled rejection', async () => {
    const unhandled = watchUnhandled();
    const { server, client, logged } = await serve();
    const handled: unknown[] = [];
    // The docs' moderation bot, with a moderation channel isChannel refuses (a space in it).
    await server.subscribe('room:1', async (m) => {
      handled.push(m.data);
      if (m.data === 'buy now') await server.publish('room:1 mod', { remove: m.id });
    });
    const room = client.channel<string>('room:1');
    await room.publish('buy now');
    await room.publish('hello');
    await until(() => handled.length === 2 && logged.length === 1, 'both messages handled and the refusal logged');
    expect(handled).toEqual(['buy now', 'hello']);
    expect(logged[0]).toContain('server.subscribe listener for "room:1" failed at offset 1');
    expect(await unhandled.stop()).toEqual([]);
  });

  it('an async onGap that rejects: logged, the subscription still delivers, no unhandled rejection', async () => {
    const unhandled = watchUnhandled();
    const { server, client, logged } = await serve();
    const offsets: number[] = [];
    const sub = await server.subscribe('feed', (m) => void offsets.push(m.offset), {
      since: { epoch: 'an-epoch-long-gone', offset: 3 },
      onGap: async () => {
        throw new Error('could not record the gap');
      },
    });
    expect(sub.recovered).toBe(false);
    await client.channel<string>('feed').publish('after the gap');
    await until(() => offsets.length === 1 && logged.length === 1, 'the message delivered and the onGap failure logged');
    expect(offsets).toEqual([1]);
    expect(logged[0]).toContain('server.subscribe onGap for "feed" failed');
    expect(await unhandled.stop()).toEqual([]);
  });

  it('an async isChannel is refused (a promise is no answer), its rejection logged, never unhandled', async () => {
    const unhandled = watchUnhandled();
    const isChannel = (async () => Promise.reject(new Error('lookup failed'))) as unknown as (name: string) => boolean;
    const { client, logged } = await serve({ isChannel });
    const channel = client.channel<string>('anything');
    await expect(channel.publish('x')).rejects.toMatchObject({ code: 'unknown_channel' });
    await until(() => logged.some((m) => m.includes('rejected')), 'the rejection logged');
    expect(logged.some((m) => m.includes('isChannel() returned a promise'))).toBe(true);
    expect(await unhandled.stop()).toEqual([]);
  });
});
