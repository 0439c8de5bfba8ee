import { describe, expect, it } from 'vitest';
import type { TransportFactory } from '@tidewire/core';
import { allTransports } from './helpers/transports';
import { startServer, until } from './helpers/servers';

const block = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Protocol §9 and docs/client.md "Late deadlines", on the server's side (heartbeat.ts, lateGrace).
// Client and server share one event loop (one process). A 4 s stall freezes both: the client's
// pongs and the server's pings are in the socket buffers, not lost. The client's own heartbeat
// deadline fires late and (docs/client.md "Late deadlines") yields and waits a grace before judging;
// the line is healthy, so nobody should declare it dead.
describe.each(allTransports as [string, () => TransportFactory][])('one stall of both ends longer than 2×heartbeat+1 s over %s', (name, transport) => {
  it('does not end a healthy line as heartbeat_timeout', { timeout: 60_000 }, async () => {
    await using t = await startServer({ heartbeat: 1000, logger: { warn: () => {}, error: () => {} } }, { transports: [transport()] });
    const c = t.client();
    const ends: string[] = [];
    c.on('state', ({ to }) => to.state === 'reconnecting' && ends.push(`${to.error.code}: ${to.error.message}`));
    c.connect();
    await until(() => c.getSnapshot().state === 'connected', 'connected');
    await sleep(1500); // a few pings and pongs: a healthy line
    block(4000);
    await sleep(3000);
    expect(ends).toEqual([]);
  });
});
