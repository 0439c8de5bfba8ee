/**
 * The Tidewire demo: a server and two Node clients in one process.
 * alice publishes a tick every 200 ms. bob reaches the server through a small TCP proxy
 * (standing in for his network). Midway the demo cuts bob's network and keeps it down
 * for 1.5 s while alice goes on publishing: bob misses those ticks live. When his network
 * returns, bob reconnects, resubscribes from his last offset and the server replays
 * exactly what he missed. The last line checks the claim: every tick once, in order.
 */
import { createServer as createTcpServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createClient, exponentialBackoff } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import WebSocket from 'ws';

const forever = process.argv.includes('--forever');
const port = Number(process.env.PORT ?? 0);
const TICKS = 30;

const server = createServer({ heartbeat: 5000 });
const { url, port: serverPort } = await server.listen(port);
console.log(`tidewire server listening on ${url}`);

// bob's "network": a TCP proxy that can be cut (every open socket destroyed, new ones refused).
let networkUp = true;
const sockets = new Set<Socket>();
const proxy = createTcpServer((inbound) => {
  if (!networkUp) return inbound.destroy();
  const outbound = connect(serverPort, '127.0.0.1');
  for (const s of [inbound, outbound]) {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  }
  inbound.pipe(outbound).pipe(inbound);
  inbound.on('close', () => outbound.destroy());
  outbound.on('close', () => inbound.destroy());
});
await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
const bobUrl = url.replace(`:${serverPort}/`, `:${(proxy.address() as AddressInfo).port}/`);

const alice = createClient({ url, WebSocket, token: 'alice' });
// A short backoff so the demo shows the recovery within a second of the network's return.
const bob = createClient({ url: bobUrl, WebSocket, token: 'bob', backoff: exponentialBackoff({ base: 200, max: 800 }) });

const room = bob.channel<{ n: number }>('room:demo');
const seen: number[] = [];
let cutAt = Infinity; // the last tick published before the cut
let backAt = Infinity; // the last tick published before the network returned
room.on('message', (msg) => {
  seen.push(msg.data.n);
  const replayed = msg.data.n > cutAt && msg.data.n <= backAt ? '  ← replayed: published while bob was offline' : '';
  console.log(`  bob   ← tick #${msg.data.n} (offset ${msg.offset})${replayed}`);
});
room.on('gap', (gap) => console.log(`  bob   ! gap: ${gap.reason}`));
bob.on('state', ({ from, to, reason }) => console.log(`  bob   ~ ${from.state} → ${to.state} (${reason})`));

await new Promise<void>((resolve) => {
  const off = room.subscribe(() => {
    if (room.getSnapshot().state !== 'subscribed') return;
    off();
    resolve();
  });
});

const aliceRoom = alice.channel('room:demo');
let published = 0;
const acks: Promise<unknown>[] = [];
const ticker = setInterval(() => {
  const tick = ++published;
  acks.push(
    aliceRoom.publish({ n: tick }).then(
      (ack) => console.log(`alice  → tick #${tick} stored at offset ${ack.offset}`),
      (error: unknown) => console.log(`alice  ✗ tick #${tick}: ${String(error)}`),
    ),
  );
  if (!forever && tick === TICKS) clearInterval(ticker);
}, 200);

setTimeout(() => {
  cutAt = published;
  console.log(`\n*** bob's network is down (after tick #${cutAt}); alice keeps publishing ***\n`);
  networkUp = false;
  for (const s of sockets) s.destroy();
  setTimeout(() => {
    backAt = published;
    networkUp = true;
    console.log(`\n*** bob's network is back (after tick #${backAt}); bob recovers from his last offset ***\n`);
  }, 1500);
}, 1500);

if (!forever) {
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (published === TICKS && seen.length >= TICKS) {
        clearInterval(check);
        resolve();
      }
    }, 100);
    setTimeout(() => {
      clearInterval(check);
      resolve();
    }, 20_000).unref();
  });
  await Promise.all(acks);
  // The claim, checked: bob saw 1..TICKS, each exactly once, in order — including the ticks he missed live.
  const once = seen.length === TICKS && seen.every((n, i) => n === i + 1);
  const replayed = seen.filter((n) => n > cutAt && n <= backAt).length;
  console.log(
    once
      ? `\nOK: alice published ${TICKS}; bob received all ${TICKS}, each once, in order — ${replayed} of them replayed after his network returned.`
      : `\nFAILED: bob received [${seen.join(', ')}]; expected 1..${TICKS}, each once, in order.`,
  );
  alice.close();
  bob.close();
  proxy.close();
  await server.close();
  process.exit(once && replayed > 0 ? 0 : 1);
}
