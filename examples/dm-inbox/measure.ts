/**
 * Tidewire over SSE against the 2 s polling it replaces, measured on the same app:
 * requests per minute per idle user, bytes per idle minute per user, and the median delivery
 * latency (server publish → the client has it). `pnpm exec tsx examples/dm-inbox/measure.ts [seconds]`.
 */
import { pathToFileURL } from 'node:url';
import { createClient } from '../../packages/core/src/index';
import type { Client } from '../../packages/core/src/index';
import { sse } from '../../packages/core/src/transports/sse';
import { conversationsOf, signToken } from './directory';
import { startDmInbox } from './server';
import type { Traffic } from './node-adapter';

export interface Side {
  readonly requestsPerMinute: number;
  readonly bytesPerMinute: number;
  readonly medianLatencyMs: number;
}
export interface Measurement {
  readonly tidewire: Side;
  readonly polling: Side;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const sum = (traffic: Map<string, Traffic>, prefix: string) =>
  [...traffic].filter(([path]) => path.startsWith(prefix)).reduce((t, [, v]) => ({ requests: t.requests + v.requests, bytes: t.bytes + v.bytes }), { requests: 0, bytes: 0 });

/**
 * @param options `idleMs`: the idle window per side (default 60 000); `messages`: how many
 *   deliveries the latency median is over (default 20, 250 ms apart)
 */
export async function measure(options: { idleMs?: number; messages?: number } = {}): Promise<Measurement> {
  const idleMs = options.idleMs ?? 60_000;
  const count = options.messages ?? 20;
  const inbox = await startDmInbox({ dir: '/nonexistent' });
  const secret = 'dm-inbox-demo-secret';
  const users = ['Ada', 'Bob', 'Eve'];
  const perMinute = (n: number) => (n / users.length) * (60_000 / idleMs);
  try {
    // Tidewire: one SSE stream per user, subscribed to all their conversations; then idle.
    const arrivals = new Map<number, number>();
    const clients: Client[] = users.map((user) => {
      const client = createClient({ url: `${inbox.url}tidewire`, token: signToken(user, secret), transports: [sse()] });
      for (const name of conversationsOf(user)) {
        client.channel<{ seq?: number }>(name).on('message', (m) => {
          if (user === 'Bob' && m.data.seq !== undefined) arrivals.set(m.data.seq, Date.now());
        });
      }
      return client;
    });
    while (!clients.every((c) => conversationsOf(users[clients.indexOf(c)]!).every((n) => c.channel(n).getSnapshot().state === 'subscribed'))) await sleep(20);
    const before = sum(inbox.adapter.traffic, '/tidewire');
    await sleep(idleMs);
    const after = sum(inbox.adapter.traffic, '/tidewire');
    const sent = new Map<number, number>();
    for (let seq = 0; seq < count; seq++) {
      sent.set(seq, Date.now());
      await inbox.app.tidewire.publish('dm:Ada:Bob', { text: `ping ${seq}`, from: 'Ada', seq });
      await sleep(250);
    }
    while (arrivals.size < count) await sleep(20);
    const tidewireLatency = median([...sent].map(([seq, at]) => arrivals.get(seq)! - at));
    for (const client of clients) client.close();

    // Polling: every user asks "anything new?" every 2 s.
    const polled = new Map<number, number>();
    let polling = true;
    const loops = users.map(async (user) => {
      let since = 0;
      while (polling) {
        const response = await fetch(`${inbox.url}api/poll?since=${since}`, { headers: { authorization: `Bearer ${signToken(user, secret)}` } });
        const body = (await response.json()) as { next: number; messages: { data: { seq?: number } }[] };
        since = body.next;
        if (user === 'Bob') for (const m of body.messages) if (m.data.seq !== undefined && !polled.has(m.data.seq)) polled.set(m.data.seq, Date.now());
        await sleep(2000);
      }
    });
    await sleep(2500); // every loop has made its first request
    const pollBefore = sum(inbox.adapter.traffic, '/api/poll');
    await sleep(idleMs);
    const pollAfter = sum(inbox.adapter.traffic, '/api/poll');
    const sentPoll = new Map<number, number>();
    for (let seq = count; seq < 2 * count; seq++) {
      sentPoll.set(seq, Date.now());
      await inbox.app.tidewire.publish('dm:Ada:Bob', { text: `ping ${seq}`, from: 'Ada', seq });
      await sleep(250);
    }
    while ([...sentPoll.keys()].some((seq) => !polled.has(seq))) await sleep(50);
    polling = false;
    await Promise.all(loops);
    return {
      tidewire: { requestsPerMinute: perMinute(after.requests - before.requests), bytesPerMinute: perMinute(after.bytes - before.bytes), medianLatencyMs: tidewireLatency },
      polling: {
        requestsPerMinute: perMinute(pollAfter.requests - pollBefore.requests),
        bytesPerMinute: perMinute(pollAfter.bytes - pollBefore.bytes),
        medianLatencyMs: median([...sentPoll].map(([seq, at]) => polled.get(seq)! - at)),
      },
    };
  } finally {
    await inbox.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const seconds = Number(process.argv[2] ?? 60);
  console.log(`Measuring ${seconds} s idle per side, 3 users, then 20 deliveries each…`);
  const m = await measure({ idleMs: seconds * 1000 });
  const row = (name: string, s: Side) => `${name.padEnd(22)}${s.requestsPerMinute.toFixed(1).padStart(14)}${Math.round(s.bytesPerMinute).toString().padStart(16)}${Math.round(s.medianLatencyMs).toString().padStart(16)}`;
  console.log(`${''.padEnd(22)}${'requests/min'.padStart(14)}${'bytes/idle min'.padStart(16)}${'median ms'.padStart(16)}   (per idle user)`);
  console.log(row('Tidewire SSE', m.tidewire));
  console.log(row('polling every 2 s', m.polling));
}
