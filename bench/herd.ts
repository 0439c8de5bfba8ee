/**
 * The reconnect herd (issue 9, kind 5c): N clients on one server over loopback; the server is
 * closed (it tells each client `going_away` with its own `retryAfter`) and a new one listens on the
 * same port 2 s later. Prints a histogram of reconnect attempts per second after the close and the
 * peak share: the largest fraction of all attempts that landed in one 1 s window (goal ≤ 5%).
 *
 *   cd bench && ../node_modules/.bin/tsx --conditions=@tidewire/source herd.ts [--clients 2000] [--down 2000] [--workers 4]
 *
 * The server runs in its own process, and the clients in `--workers` processes, as in production
 * where every client has its own machine: one process holding all 2,000 stalls for seconds handling
 * the close frames at once, which would bunch the attempts for reasons of this harness, not of the
 * policy. Two histograms are printed: attempts as each client scheduled them (the moment it decided
 * + `retryIn`), and as they actually started. A measurement, not a test: about a minute, and its
 * figures depend on the machine.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { createClient, type Client, type WebSocketConstructor } from '@tidewire/core';
import { createServer } from '@tidewire/server';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const CLIENTS = option('--clients', 2000);
const DOWN_MS = option('--down', 2000);
const WORKERS = option('--workers', 4);
const DEADLINE_MS = option('--deadline', 120_000);

const quiet = { warn: () => {}, error: () => {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Messages between this orchestrator and its children. */
type ToChild = { listen: number } | { connect: string; count: number } | { closedAt: number } | 'close' | 'report';
type FromChild = 'ready' | { port: number } | { connected: number } | { attempts: number[]; scheduled: number[] };

function fromParent(handler: (m: ToChild) => void): void {
  process.on('message', (m) => handler(m as ToChild));
  process.send!('ready' satisfies FromChild);
}

/** A server process: loaded and idle until `listen` (so the restart is not slowed by module loading), then `close`. */
function serverRole(): void {
  const server = createServer({ logger: quiet });
  fromParent((m) => {
    if (m === 'close') return void server.close().then(() => process.exit(0));
    if (typeof m === 'object' && 'listen' in m) void server.listen(m.listen).then(({ port }) => process.send!({ port } satisfies FromChild));
  });
}

/** A client process: `count` clients; records attempts after `closedAt` as absolute times. */
function clientRole(): void {
  const clients: Client[] = [];
  let closedAt = Infinity;
  const attempts: number[] = [];
  const scheduled: number[] = [];
  fromParent((m) => {
    if (m === 'report') {
      for (const client of clients) client.close();
      process.send!({ attempts, scheduled } satisfies FromChild, () => process.exit(0));
    } else if (typeof m === 'object' && 'closedAt' in m) {
      closedAt = m.closedAt;
    } else if (typeof m === 'object' && 'connect' in m) {
      void (async () => {
        for (let i = 0; i < m.count; i++) {
          const client = createClient({ url: m.connect, WebSocket: WebSocket as unknown as WebSocketConstructor, lazy: false });
          client.on('state', ({ to }) => {
            const now = Date.now();
            if (now < closedAt) return;
            if (to.state === 'connecting') attempts.push(now);
            if (to.state === 'reconnecting') scheduled.push(now + to.retryIn);
          });
          clients.push(client);
          client.connect();
          if (i % 50 === 49) await sleep(20); // connect gently: the herd under study is the reconnect
        }
      })();
      setInterval(() => process.send!({ connected: clients.filter((c) => c.getSnapshot().state === 'connected').length } satisfies FromChild), 200);
    }
  });
}

class Child {
  readonly process: ChildProcess;
  last: FromChild | undefined;
  readonly #waiters = new Set<() => void>();

  private constructor(role: string) {
    this.process = fork(fileURLToPath(import.meta.url), [role], { execArgv: process.execArgv });
    this.process.on('message', (m) => {
      this.last = m as FromChild;
      for (const wake of this.#waiters) wake();
    });
  }

  static async start(role: string): Promise<Child> {
    const child = new Child(role);
    await child.next((m) => m === 'ready');
    return child;
  }

  send(m: ToChild): void {
    this.process.send(m);
  }

  next<T extends FromChild>(match: (m: FromChild) => boolean, timeout = DEADLINE_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('a child process did not answer in time')), timeout);
      const check = () => {
        if (this.last === undefined || !match(this.last)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve(this.last as T);
      };
      this.#waiters.add(check);
    });
  }

  exited(): Promise<unknown> {
    return new Promise((resolve) => this.process.once('exit', resolve));
  }
}

async function main(): Promise<void> {
  let server = await Child.start('--serve');
  server.send({ listen: 0 });
  const { port } = await server.next<{ port: number }>((m) => typeof m === 'object' && 'port' in m);
  const standby = await Child.start('--serve');
  const url = `ws://127.0.0.1:${port}/tidewire`;
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => Child.start('--clients-worker')));
  const share = (i: number) => Math.floor(CLIENTS / WORKERS) + (i < CLIENTS % WORKERS ? 1 : 0);
  workers.forEach((w, i) => w.send({ connect: url, count: share(i) }));
  const allConnected = () =>
    Promise.all(workers.map((w, i) => w.next((m) => typeof m === 'object' && 'connected' in m && m.connected === share(i))));
  await allConnected();
  console.log(`${CLIENTS} clients in ${WORKERS} processes connected to ${url}; closing the server, a new one listens ${DOWN_MS} ms later`);

  const closedAt = Date.now();
  for (const w of workers) w.send({ closedAt });
  const gone = server.exited();
  server.send('close');
  await gone;
  const closeTook = Date.now() - closedAt;
  await sleep(Math.max(0, DOWN_MS - closeTook));
  server = standby;
  server.send({ listen: port });
  await server.next((m) => typeof m === 'object' && 'port' in m);
  console.log(`the old server's close() took ${closeTook} ms; the new one listened ${Date.now() - closedAt} ms after the close began`);
  await sleep(1000); // the last `connected` reports from before the close must not count
  await allConnected();
  console.log(`all ${CLIENTS} back after ${((Date.now() - closedAt) / 1000).toFixed(1)} s`);

  const reports = await Promise.all(
    workers.map((w) => {
      w.send('report');
      return w.next<{ attempts: number[]; scheduled: number[] }>((m) => typeof m === 'object' && 'attempts' in m);
    }),
  );
  const relative = (key: 'attempts' | 'scheduled') => reports.flatMap((r) => r[key].map((t) => t - closedAt));
  report('attempts as scheduled by the clients (moment decided + retryIn)', relative('scheduled'));
  report('attempts as started', relative('attempts'));
  const stopped = server.exited();
  server.send('close');
  await stopped;
}

/** Histogram per second, and the peak share of one 1 s window (fixed bins and sliding). */
function report(title: string, times: number[]): void {
  const bins = new Map<number, number>();
  for (const ms of times) bins.set(Math.floor(ms / 1000), (bins.get(Math.floor(ms / 1000)) ?? 0) + 1);
  const pct = (n: number) => `${((n / times.length) * 100).toFixed(1)}%`;
  console.log(`\n${title}: ${times.length}\nsecond  attempts`);
  let peak = 0;
  let peakSecond = 0;
  for (let s = 0; s <= Math.max(...bins.keys()); s++) {
    const n = bins.get(s) ?? 0;
    if (n > peak) [peak, peakSecond] = [n, s];
    console.log(`${String(s).padStart(6)}  ${String(n).padStart(8)}  ${'#'.repeat(Math.round((n / times.length) * 200))}`);
  }
  // Sliding 1 s windows too, so a burst straddling two bins is not hidden.
  const sorted = [...times].sort((a, b) => a - b);
  let sliding = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= 1000) j++;
    sliding = Math.max(sliding, i - j + 1);
  }
  console.log(`peak: ${peak} (${pct(peak)}) in second ${peakSecond}; sliding 1 s window: ${sliding} (${pct(sliding)})`);
}

const role = argv[0];
if (role === '--serve') serverRole();
else if (role === '--clients-worker') clientRole();
else
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
