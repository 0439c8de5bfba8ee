import { describe, expect, it } from 'vitest';
import { websocket } from '@tidewire/core/websocket';
import { useRedisJunk } from './helpers/redis-junk';
import { openLine } from './helpers/raw-protocol-line';
import { until } from './helpers/servers';

/**
 * One entry in a channel's Redis stream that is not what the broker writes (another process, a
 * partial restore, an older node) — here offset 2 with body `notjson` — used to stop every later
 * message of that channel for every subscriber of the process, silently (the hole fill threw and
 * was retried every 250 ms forever). Now the entry is skipped as if trimmed: later messages flow,
 * and the jump reaches clients as a typed gap — never a silent stop.
 */
const t = useRedisJunk('junkstream');

describe('a junk entry in a channel stream', () => {
  it.each([['notjson'], ['5'], ['null']])('body %s: later messages still reach subscribers, or the subscription ends loudly', async (body) => {
    const { url } = await t.server.listen(0);
    const inProcess: unknown[] = [];
    await t.server.subscribe('room', (m) => void inProcess.push(m.data), { onGap: () => void inProcess.push('(gap)') });
    const line = await openLine('websocket', url, websocket);
    line.send({ type: 'subscribe', id: 's', channel: 'room' });
    await line.next((f) => f.type === 'subscribed', 'subscribed');
    await t.server.publish('room', 'm1');
    await line.next((f) => f.type === 'message' && f.offset === 1, 'm1');

    // Another process writes offset 2 the broker cannot read, and moves the head past it.
    t.cli('XADD', `${t.prefix}:{room}:stream`, '2-0', 't', String(Date.now()), 'b', body);
    t.cli('HSET', `${t.prefix}:{room}:meta`, 's', '2');
    const { offset } = await t.server.publish('room', 'm3');
    expect(offset).toBe(3);

    await until(
      () => line.frames.some((f) => (f.type === 'message' && f.offset === 3) || (f.type === 'unsubscribed' && f.channel === 'room')) || line.ended !== undefined,
      'the WebSocket subscriber gets m3, or is told its subscription ended',
      8000,
    ).catch(() => {});
    const told = line.frames.filter((f) => (f.type === 'message' && f.offset === 3) || f.type === 'unsubscribed');
    line.close();
    expect(told.length).toBe(1);
    expect(inProcess).toContain('m3');
  });
});
