// Time to deliver one large message over each transport on loopback (no throttle):
// `tsx --conditions=@tidewire/source large-frame.ts [MiB=8] [runs=3]` from bench/.
// Parsing must be linear in bytes on every transport: compare the sizes, and SSE with WebSocket.
import { randomBytes } from 'node:crypto';
import WebSocketImpl from 'ws';
import { EventSource } from 'eventsource';
import { createClient, type TransportFactory, type WebSocketConstructor } from '@tidewire/core';
import { eventsource } from '@tidewire/core/eventsource';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { websocket } from '@tidewire/core/websocket';
import { createServer } from '@tidewire/server';

const mib = Number(process.argv[2] ?? 8);
const runs = Number(process.argv[3] ?? 3);
const transports: [string, () => TransportFactory][] = [
  ['websocket', () => websocket({ WebSocket: WebSocketImpl as unknown as WebSocketConstructor })],
  ['sse', () => sse()],
  ['eventsource', () => eventsource({ EventSource })],
  ['longpoll', () => longpoll()],
];

const server = createServer({ limits: { maxPayload: 256 * 1024 * 1024, maxBufferedBytes: 1024 * 1024 * 1024 }, logger: { warn() {}, error() {} } });
const { url } = await server.listen(0);
const payload = randomBytes(Math.floor((mib * 1024 * 1024 * 3) / 4)).toString('base64');

for (const [name, transport] of transports) {
  const client = createClient({ url, transports: [transport()] });
  const channel = client.channel(`bench-${name}`);
  let arrived: () => void = () => {};
  channel.on('message', () => arrived());
  while (channel.getSnapshot().state !== 'subscribed') await new Promise((r) => setTimeout(r, 10));
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const done = new Promise<void>((resolve) => (arrived = resolve));
    const start = performance.now();
    await server.publish(`bench-${name}`, payload);
    await done;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(12)} ${mib} MiB: median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')})`);
  client.close();
}
await server.close();
