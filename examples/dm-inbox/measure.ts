/**
 * Tidewire over SSE against the 2 s polling it replaces, measured on the running Next.js app:
 * requests per minute per idle user, response-body bytes per idle minute per user, and the median
 * delivery latency (the server stores a message → the other user has it).
 * `pnpm --filter @tidewire/example-dm-inbox measure [seconds]`.
 */
import { pathToFileURL } from 'node:url';
import { createClient } from '@tidewire/core';
import type { Client } from '@tidewire/core';
import { sse } from '@tidewire/core/sse';
import { conversationsOf, sessionSecret, signToken, USERS } from './directory';
import type { Dm } from './app/dm';
import type { PollAnswer } from './dm-server';
import { startNextApp } from './next-app';
import type { StartOptions } from './next-app';

export interface Side {
  readonly requestsPerMinute: number;
  readonly bytesPerMinute: number;
  readonly medianLatencyMs: number;
}
export interface Measurement {
  readonly tidewire: Side;
  readonly polling: Side;
}

/** Requests made and response-body bytes received, counted where the user is: in the client's `fetch`. */
interface Traffic {
  requests: number;
  bytes: number;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const seqOf = (data: Dm) => (/^ping (\d+)$/.exec(data.text) ? Number(data.text.slice(5)) : undefined);

/** A `fetch` that counts into `traffic`: one per request, and every body byte as it streams in. */
function countingFetch(traffic: Traffic): typeof fetch {
  return async (input, init) => {
    traffic.requests++;
    const response = await fetch(input, init);
    if (!response.body) return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          traffic.bytes += chunk.byteLength;
          out.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

/** Ada sends `ping <seq>` to Bob `count` times, 250 ms apart, over her own (uncounted) Tidewire client. */
async function sendPings(url: string, from: number, count: number): Promise<void> {
  const ada = createClient({ url: `${url}tidewire`, token: signToken('Ada', sessionSecret()), transports: [sse()] });
  try {
    for (let seq = from; seq < from + count; seq++) {
      await ada.publish('dm:Ada:Bob', { text: `ping ${seq}` });
      await sleep(250);
    }
  } finally {
    ada.close();
  }
}

/**
 * Start the app (`next start`, built if needed) and measure both sides, one after the other.
 * @param options `idleMs`: the idle window per side (default 60 000); `messages`: how many
 *   deliveries the latency median is over (default 20, 250 ms apart); `build`: when to run
 *   `next build` first (default `if-stale`, see {@link StartOptions})
 * @returns per idle user: requests and body bytes per minute, and the median delivery latency
 */
export async function measure(options: { idleMs?: number; messages?: number; build?: StartOptions['build'] } = {}): Promise<Measurement> {
  const idleMs = options.idleMs ?? 60_000;
  const count = options.messages ?? 20;
  const perMinute = (n: number) => (n / USERS.length) * (60_000 / idleMs);
  const app = await startNextApp({ env: { DM_INBOX_SECRET: sessionSecret() }, ...(options.build && { build: options.build }) });
  try {
    // Tidewire: one SSE stream per user, subscribed to all their conversations; then idle.
    const streamed: Traffic = { requests: 0, bytes: 0 };
    const arrivals = new Map<number, number>();
    const clients: Client[] = USERS.map((user) => {
      const client = createClient({ url: `${app.url}tidewire`, token: signToken(user, sessionSecret()), transports: [sse()], fetch: countingFetch(streamed) });
      for (const name of conversationsOf(user)) {
        client.channel<Dm>(name).on('message', (m) => {
          const seq = seqOf(m.data);
          if (user === 'Bob' && seq !== undefined) arrivals.set(seq, Date.now() - m.data.at);
        });
      }
      return client;
    });
    const subscribed = () => clients.every((c, i) => conversationsOf(USERS[i]!).every((name) => c.channel(name).getSnapshot().state === 'subscribed'));
    while (!subscribed()) await sleep(20);
    const before = { ...streamed };
    await sleep(idleMs);
    const after = { ...streamed };
    await sendPings(app.url, 0, count);
    while (arrivals.size < count) await sleep(20);
    for (const client of clients) client.close();

    // Polling: every user asks "anything new?" every 2 s.
    const polled: Traffic = { requests: 0, bytes: 0 };
    const pollFetch = countingFetch(polled);
    const pollArrivals = new Map<number, number>();
    let polling = true;
    const loops = USERS.map(async (user) => {
      let since = 0;
      while (polling) {
        const response = await pollFetch(`${app.url}api/poll?since=${since}`, { headers: { authorization: `Bearer ${signToken(user, sessionSecret())}` } });
        const body = (await response.json()) as PollAnswer;
        since = body.next;
        for (const m of body.messages) {
          const data = m.data as Dm;
          const seq = seqOf(data);
          if (user === 'Bob' && seq !== undefined && seq >= count && !pollArrivals.has(seq)) pollArrivals.set(seq, Date.now() - data.at);
        }
        await sleep(2000);
      }
    });
    await sleep(2500); // every loop has made its first request
    const pollBefore = { ...polled };
    await sleep(idleMs);
    const pollAfter = { ...polled };
    await sendPings(app.url, count, count);
    while (pollArrivals.size < count) await sleep(50);
    polling = false;
    await Promise.all(loops);
    return {
      tidewire: { requestsPerMinute: perMinute(after.requests - before.requests), bytesPerMinute: perMinute(after.bytes - before.bytes), medianLatencyMs: median([...arrivals.values()]) },
      polling: { requestsPerMinute: perMinute(pollAfter.requests - pollBefore.requests), bytesPerMinute: perMinute(pollAfter.bytes - pollBefore.bytes), medianLatencyMs: median([...pollArrivals.values()]) },
    };
  } finally {
    await app.close();
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
