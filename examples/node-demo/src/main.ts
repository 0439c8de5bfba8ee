/**
 * The Tidewire demo: a server and two Node clients in one process.
 * alice publishes a tick every 250 ms; bob prints what arrives. Midway, the demo
 * cuts bob's line from the server side (as a proxy or a flaky network would);
 * bob reconnects and the server replays what he missed — nothing lost, nothing twice.
 */
import { createClient } from '@tidewire/core';
import { createServer } from '@tidewire/server';
import WebSocket from 'ws';

const forever = process.argv.includes('--forever');
const port = Number(process.env.PORT ?? 0);

const server = createServer({ heartbeat: 5000 });
const { url, httpServer } = await server.listen(port);
console.log(`tidewire server listening on ${url}`);

// Track raw sockets so the demo can cut bob's line the way a network failure would.
const sockets = new Set<import('node:net').Socket>();
httpServer.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

const alice = createClient({ url, WebSocket, token: 'alice' });
const bob = createClient({ url, WebSocket, token: 'bob' });

const room = bob.channel<{ n: number; from: string }>('room:demo');
let expected = 0;
let received = 0;
room.on('message', (msg) => {
  received++;
  const inOrder = msg.data.n === expected + 1 || expected === 0;
  expected = msg.data.n;
  console.log(`  bob   ← #${msg.data.n} from ${msg.data.from} (offset ${msg.offset}${inOrder ? '' : ', OUT OF ORDER'})`);
});
room.on('gap', (gap) => console.log(`  bob   ! gap: ${gap.reason}`));
bob.on('state', ({ from, to, reason }) => console.log(`  bob   ~ ${from.state} → ${to.state} (${reason})`));

await new Promise<void>((resolve) => {
  const off = room.subscribe(() => {
    if (room.getSnapshot().state === 'subscribed') {
      off();
      resolve();
    }
  });
});

let n = 0;
const ticker = setInterval(() => {
  const tick = ++n;
  alice.channel('room:demo').publish({ n: tick, from: 'alice' }).then(
    (ack) => console.log(`alice  → #${tick} stored at offset ${ack.offset}`),
    (error: unknown) => console.log(`alice  ✗ #${tick}: ${String(error)}`),
  );
}, 250);

// Cut bob's line after 2 s: destroy every socket whose client is bob's current one.
setTimeout(() => {
  console.log('\n*** cutting every connection from the server side (bob will recover) ***\n');
  for (const s of sockets) s.destroy();
}, 2000);

if (!forever) {
  setTimeout(async () => {
    clearInterval(ticker);
    await new Promise((r) => setTimeout(r, 1500));
    console.log(`\nalice published ${n}, bob received ${received} (each once, in order). Bye.`);
    alice.close();
    bob.close();
    await server.close();
    process.exit(received === n ? 0 : 1);
  }, 5000);
}
