/**
 * The cluster scenario of `pnpm bench`: 3 server nodes (child processes) on one Redis, Tidewire
 * (`@tidewire/redis`) side by side with socket.io (`@socket.io/redis-adapter`), on the same
 * redis-server, one after the other:
 *
 * - fan-out: 1,000 WebSocket clients (one client process) spread evenly over the three nodes, all
 *   subscribed to `fan`; node A broadcasts one message at a time; p50/p99 until the last of the
 *   1,000 has it (send time stamped with CLOCK_MONOTONIC, shared by the processes);
 * - publish → ack throughput: 3 clients per node (one client process per node), each subscribed
 *   to the channel it publishes to, each with 64 publishes awaiting their ack (enough that the
 *   figure is capacity, not one round trip's latency), for 10 s: acks/s, and the deliveries those
 *   publishes caused (each message reaches 9 subscribers on 3 nodes). Logged beside it: Redis's CPU
 *   and busiest commands during the run, and CPU µs per ack of the nodes, the publishers and Redis.
 *
 * Tidewire acknowledges a publish once Redis stored it (offset assigned, history appended, fan-out
 * notified, deduplicated by id); socket.io acknowledges after handing the emit to its adapter,
 * with no order, history or retry guarantee — the baseline is the faster contract.
 *
 * Standalone: `tsx cluster/run.ts [--quick] [--subject tidewire-ws|socketio-ws] [--no-fan]`; `pnpm bench` runs it after the single-process
 * subjects (`--no-cluster` skips it, `--only cluster` runs it alone).
 */
import { fileURLToPath } from 'node:url';
import { startRedis } from '../../packages/redis/test/redis-server';
import { spawnChild, type Child } from '../lib/ipc';
import { summarize } from '../lib/stats';
import type { ClusterSubject } from './node';
import { describeRedisWindow, redisWindow } from './redisStats';

export interface ClusterFigures {
  readonly subject: ClusterSubject;
  readonly clients: number;
  readonly fan?: { messages: number; p50: number; p99: number; timedOut: boolean };
  readonly throughput?: { acksPerSec: number; deliveriesPerSec: number; failed: number; publishers: number; window: number };
  readonly errors: string[];
}

export interface ClusterBenchOptions {
  quick: boolean;
  /** Run only these subjects (default: both; development runs, never a reported ratio). */
  subjects?: readonly ClusterSubject[];
  /** Measure the fan-out too (default true). */
  fan?: boolean;
  /** Where figures go as JSON lines (the suite's `record`). */
  record(subject: string, scenario: string, values: Record<string, unknown>): void;
  log(message: string): void;
}

const LABELS: Record<ClusterSubject, string> = { 'tidewire-ws': 'Tidewire WebSocket, 3 nodes on Redis', 'socketio-ws': 'socket.io websocket + redis-adapter, 3 nodes' };
/** Child flags: `TIDEWIRE_BENCH_SOURCE=1` loads the workspace sources instead of `dist` (development only). */
const EXTRA_ARGV = process.env.TIDEWIRE_BENCH_SOURCE ? ['--conditions=@tidewire/source'] : [];
/** `TIDEWIRE_CLUSTER_PROFILE=<dir>`: the three nodes and the publishers write V8 CPU profiles there (summarize with lib/cpuprofile-top.ts). */
const NODE_ARGV = process.env.TIDEWIRE_CLUSTER_PROFILE ? [...EXTRA_ARGV, '--cpu-prof', `--cpu-prof-dir=${process.env.TIDEWIRE_CLUSTER_PROFILE}`] : EXTRA_ARGV;
const NODES = 3;

interface Config {
  /** Measure the fan-out (false: `--no-fan`, publish → ack only; development runs). */
  fan: boolean;
  clients: number;
  fanMessages: number;
  fanWarmup: number;
  perNode: number;
  window: number;
  durationMs: number;
}

/** Run both subjects; @returns the report (a table, ratios and the 1.5× target). */
export async function runClusterBench({ quick, subjects = ['tidewire-ws', 'socketio-ws'], fan = true, record, log }: ClusterBenchOptions): Promise<string> {
  const config: Config = quick
    ? { fan, clients: 99, fanMessages: 20, fanWarmup: 3, perNode: 1, window: 32, durationMs: 2_000 }
    : { fan, clients: 1_000, fanMessages: 200, fanWarmup: 10, perNode: 3, window: 64, durationMs: 10_000 };
  const redis = await startRedis();
  const rows: ClusterFigures[] = [];
  try {
    for (const subject of subjects) {
      const t0 = Date.now();
      const row = await benchCluster(subject, redis.url, config, log);
      rows.push(row);
      if (row.fan) record(`cluster-${subject}`, 'cluster-fanout', { ...row.fan, clients: row.clients, nodes: NODES, unit: 'ms until all clients on all nodes received' });
      if (row.throughput) record(`cluster-${subject}`, 'cluster-publish', { ...row.throughput, nodes: NODES, unit: 'publishes acknowledged per second' });
      log(`cluster ${subject}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s${row.errors.length ? ` (errors: ${row.errors.join('; ')})` : ''}`);
    }
  } finally {
    await redis.stop({ kill: true });
  }
  return report(rows);
}

async function benchCluster(
  subject: ClusterSubject,
  redisUrl: string,
  config: Config,
  log: (m: string) => void,
): Promise<ClusterFigures> {
  const errors: string[] = [];
  let fan: ClusterFigures['fan'];
  let throughput: ClusterFigures['throughput'];
  const nodes = Array.from({ length: NODES }, (_, i) => spawnChild('cluster/node.ts', `${subject}/node-${'abc'[i]}`, NODE_ARGV));
  const children: Child[] = [...nodes];
  try {
    const urls = (await Promise.all(nodes.map((n) => n.call<{ url: string }>('start', { subject, redisUrl, prefix: `bench-${subject}` })))).map((r) => r.url);

    if (config.fan) fan = await measureFanOut(subject, nodes, urls, config, children, log);

    // Publish → ack throughput from every node at once: one client process per node (as clients
    // are, in a cluster: one process holding all of them would measure that process, not the cluster).
    const publishers = urls.map((_, i) => spawnChild('cluster/publishers.ts', `${subject}/publishers-${'abc'[i]}`, NODE_ARGV));
    children.push(...publishers);
    await Promise.all(publishers.map((p) => p.call('load', { subject })));
    await Promise.all(publishers.map((p, i) => p.call('connect', { urls: [urls[i]], perNode: config.perNode }, 60_000)));
    const run = async (durationMs: number): Promise<{ acks: number; failed: number; delivered: number; elapsedUs: number }> => {
      type Run = { acks: number; failed: number; delivered: number; elapsedUs: number };
      const runs = await Promise.all(publishers.map((p) => p.call<Run>('run', { window: config.window, durationMs }, durationMs + 60_000)));
      return runs.reduce((sum, r) => ({ acks: sum.acks + r.acks, failed: sum.failed + r.failed, delivered: sum.delivered + r.delivered, elapsedUs: Math.max(sum.elapsedUs, r.elapsedUs) }));
    };
    await run(Math.min(2000, config.durationMs)); // warm-up
    const endWindow = await redisWindow(redisUrl);
    const cpuBefore = await cpuOf([...nodes, ...publishers]);
    const r = await run(config.durationMs);
    const cpuAfter = await cpuOf([...nodes, ...publishers]);
    const redisFigures = await endWindow();
    log(`cluster ${subject}: ${describeRedisWindow(redisFigures, r.elapsedUs / 1e6)}`);
    // CPU per acknowledged publish, by kind of process: on a shared machine this says more than msg/s.
    const perAck = (us: number): string => `${(us / Math.max(1, r.acks)).toFixed(0)} µs`;
    const spent = (from: number, to: number): number => cpuAfter.slice(from, to).reduce((sum, c, i) => sum + c - cpuBefore[from + i]!, 0);
    log(
      `cluster ${subject}: CPU per ack — nodes ${perAck(spent(0, NODES))}, publisher processes ${perAck(spent(NODES, cpuAfter.length))}, ` +
        `Redis ${perAck(redisFigures.cpuSec * 1e6)}`,
    );
    throughput = {
      acksPerSec: r.acks / (r.elapsedUs / 1e6),
      deliveriesPerSec: r.delivered / (r.elapsedUs / 1e6),
      failed: r.failed,
      publishers: config.perNode * NODES,
      window: config.window,
    };
    await Promise.all(publishers.map((p) => p.call('closeAll').catch(() => {})));
  } catch (e) {
    errors.push(String((e as Error).message ?? e).split('\n')[0]!);
  } finally {
    await Promise.all(nodes.map((n) => n.call('stop', undefined, 10_000).catch(() => {})));
    await Promise.all(children.map((c) => c.kill()));
  }
  return { subject, clients: config.clients, ...(fan && { fan }), ...(throughput && { throughput }), errors };
}

/** Each child's CPU time so far (user + system, µs). */
async function cpuOf(children: readonly Child[]): Promise<number[]> {
  return Promise.all(children.map(async (c) => {
    const { user, system } = await c.call<{ user: number; system: number }>('cpu');
    return user + system;
  }));
}

/** Fan-out: the suite's client process (client.ts), its clients spread over the nodes; node A broadcasts. */
async function measureFanOut(
  subject: ClusterSubject,
  nodes: readonly Child[],
  urls: readonly string[],
  config: Config,
  children: Child[],
  log: (m: string) => void,
): Promise<NonNullable<ClusterFigures['fan']>> {
  const many = spawnChild('client.ts', `${subject}/clients`, EXTRA_ARGV);
  children.push(many);
  await many.call('load', { subject });
  const t0 = Date.now();
  for (const [i, url] of urls.entries()) {
    const count = Math.floor(config.clients / NODES) + (i < config.clients % NODES ? 1 : 0);
    await many.call('connectMany', { url, count, concurrency: 30 }, 120_000);
  }
  log(`cluster ${subject}: ${config.clients} clients connected over ${NODES} nodes in ${Date.now() - t0} ms`);
  await many.call('armFan', { expect: config.clients });
  const lat: number[] = [];
  let waiting: { k: number; resolve(us: number): void } | undefined;
  const off = many.on('fan', ({ k, latUs }: { k: number; latUs: number }) => waiting?.k === k && waiting.resolve(latUs));
  const deadline = Date.now() + 30_000;
  let timedOut = false;
  try {
    for (let k = 0; k < config.fanWarmup + config.fanMessages; k++) {
      const got = new Promise<number>((resolve, reject) => {
        waiting = { k, resolve };
        setTimeout(() => reject(new Error(`fan-out message ${k} did not reach all ${config.clients} clients within 10 s`)), 10_000).unref();
      });
      await nodes[0]!.call('broadcast', { k });
      const us = await got;
      if (k >= config.fanWarmup) lat.push(us);
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
    }
  } finally {
    off();
  }
  const s = summarize(lat.map((us) => us / 1000));
  await many.call('closeAll').catch(() => {});
  await many.kill();
  return { messages: s.n, p50: s.p50, p99: s.p99, timedOut };
}

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function report(rows: ClusterFigures[]): string {
  const out = ['Cluster: 3 nodes + Redis (fan-out to clients spread over the nodes; publish → ack from every node)'];
  out.push('| subject | clients | fan-out p50 ms | fan-out p99 ms | publish→ack msg/s | deliveries/s | failed publishes |');
  out.push('|:--|--:|--:|--:|--:|--:|--:|');
  for (const r of rows) {
    const star = r.fan?.timedOut ? '*' : '';
    out.push(`| ${LABELS[r.subject]} | ${r.clients} | ${fmt(r.fan?.p50, 2)}${star} | ${fmt(r.fan?.p99, 2)}${star} | ${fmt(r.throughput?.acksPerSec)} | ${fmt(r.throughput?.deliveriesPerSec)} | ${r.throughput?.failed ?? '—'} |`);
  }
  for (const r of rows) if (r.errors.length) out.push(`errors in cluster ${r.subject}: ${r.errors.join('; ')}`);
  const t = rows.find((r) => r.subject === 'tidewire-ws');
  const s = rows.find((r) => r.subject === 'socketio-ws');
  const ratio = (a?: number, b?: number): string => (a && b ? `${(a / b).toFixed(2)}×` : '—');
  out.push(
    '',
    `Ratios (Tidewire ÷ socket.io): publish→ack ${ratio(t?.throughput?.acksPerSec, s?.throughput?.acksPerSec)}, ` +
      `fan-out p50 ${ratio(t?.fan?.p50, s?.fan?.p50)}, p99 ${ratio(t?.fan?.p99, s?.fan?.p99)} (throughput: higher is better; latency: lower)`,
  );
  const r = t?.throughput && s?.throughput ? t.throughput.acksPerSec / s.throughput.acksPerSec : undefined;
  out.push(`Target: cluster publish→ack ≥ 1.5× socket.io's: ${r === undefined ? 'n/a' : `${r.toFixed(2)}× ${r >= 1.5 ? 'PASS' : 'FAIL'}`}`);
  return out.join('\n');
}

// Standalone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lines: string[] = [];
  const only = process.argv.indexOf('--subject'); // `--subject tidewire-ws`: one subject alone (development)
  runClusterBench({
    quick: process.argv.includes('--quick'),
    fan: !process.argv.includes('--no-fan'),
    ...(only > 0 && { subjects: [process.argv[only + 1] as ClusterSubject] }),
    record: (subject, scenario, values) => void lines.push(JSON.stringify({ subject, scenario, ...values })),
    log: (m) => void process.stderr.write(`[bench] ${m}\n`),
  }).then(
    (text) => {
      console.log(`\n${text}\n\nJSON lines:\n${lines.join('\n')}`);
      process.exit(0);
    },
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
