/**
 * Tidewire benchmark suite: every subject and scenario in one run, side by side, on loopback.
 *
 *   pnpm bench                       full run (~3 min on 2 cores)
 *   pnpm bench --quick               ~10× smaller counts, a smoke run
 *   pnpm bench --json out.jsonl      JSON lines to a file instead of stdout
 *   pnpm bench --only ws,tidewire-ws subjects to run (default: all; `cluster` names the cluster scenario)
 *   pnpm bench --no-cluster          skip the cluster scenario (3 nodes + Redis; see cluster/run.ts)
 *   pnpm bench --svg out.svg         where the ratio chart goes (default: docs/benchmarks-ratios.svg on a
 *                                    full run of every subject; a quick or partial run writes none unless asked)
 *
 * Scenarios, each with its method (also in docs/benchmarks.md):
 * - memory + fan-out: 1,000 idle subscribed clients in one process; one broadcast at a time, p50/p99
 *   until the last client has it (send time stamped with CLOCK_MONOTONIC, shared by the processes).
 * - push (yielding): the server publishes n messages, yielding to its event loop every 1,000.
 * - push (sync loop): the same n in one synchronous loop with no yield — a backlog, an import, a batch.
 * - RTT: sequential publish → ack from one client; then again with the server and the client
 *   process pinned to one core (`taskset -a -p -c 0`), so the figure is the code's, not the scheduler's.
 *
 * The orchestrator (this process) only sequences; each subject gets a fresh server process
 * and two client processes (1,000 idle clients for memory + fan-out; one client for push + RTT),
 * so client CPU, client memory and server memory are measured in separate processes.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ratiosSvg } from './lib/chart';
import { TARGETS, chartGroups, type PushFigures, type Row, type RttFigures } from './lib/figures';
import { spawnChild, type Child } from './lib/ipc';
import { summarize } from './lib/stats';
import { SUBJECT_IDS, SUBJECT_LABELS, type SubjectId } from './subjects';
import { clientTransportExists } from './subjects/tidewire';
import { runClusterBench } from './cluster/run';

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};

const QUICK = flag('--quick');
const JSON_FILE = option('--json');
const ONLY = option('--only')?.split(',') as SubjectId[] | undefined;
const SVG_FILE = option('--svg') ?? (QUICK || ONLY ? undefined : fileURLToPath(new URL('../docs/benchmarks-ratios.svg', import.meta.url)));

const CONFIG = QUICK
  ? { push: 20_000, pushWarmup: 2_000, rtt: 500, rttWarmup: 50, clients: 100, fanMessages: 20, fanWarmup: 3 }
  : { push: 200_000, pushWarmup: 20_000, rtt: 5_000, rttWarmup: 200, clients: 1_000, fanMessages: 200, fanWarmup: 10 };
/** Wall-clock caps per scenario (ms), so a slow subject cannot stretch the run; a capped figure says so. */
const CAPS = { push: 20_000, rtt: 10_000, fan: 12_000, connect: 60_000 };
/** Clients measured as the baseline of the memory delta (one-time costs: code, JIT, first socket). */
const MEM_BASE_CLIENTS = Math.max(10, Math.round(CONFIG.clients / 100));

const jsonLines: string[] = [];
function record(subject: SubjectId, scenario: string, values: Record<string, unknown>): void {
  jsonLines.push(JSON.stringify({ subject, scenario, quick: QUICK, ...values }));
}

const log = (msg: string): void => void process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function benchSubject(subject: SubjectId): Promise<Row> {
  const row: Row = { subject, errors: [], warnings: [] };
  if (subject === 'tidewire-sse' || subject === 'tidewire-longpoll') {
    const t = subject === 'tidewire-sse' ? 'sse' : 'longpoll';
    if (!clientTransportExists(t)) return { ...row, unavailable: `packages/core/src/transports/${t}.ts does not exist yet` };
  }
  const server = spawnChild('server.ts', `${subject}/server`);
  const many = spawnChild('client.ts', `${subject}/clients`);
  const one = spawnChild('client.ts', `${subject}/client`);
  try {
    const [{ url }] = await Promise.all([
      server.call<{ url: string }>('start', { subject }),
      many.call('load', { subject }),
      one.call('load', { subject }),
    ]);
    const probe = await many.call<{ ok: boolean; reason?: string }>('probe', { url, timeoutMs: 5000 }, 15_000);
    if (!probe.ok) return { ...row, unavailable: `cannot connect: ${probe.reason}` };

    await memoryAndFanOut(row, server, many, url);
    row.warnings.push(...(await many.call<string[]>('warnings')).map((w) => `1,000-client process: ${w}`));
    await many.call('closeAll').catch(() => {});
    await many.kill();
    await rssWithFixedYoungGeneration(row, url);
    await pushAndRtt(row, server, one, url);
  } catch (e) {
    row.errors.push(String((e as Error).message ?? e).split('\n')[0]!);
    log(`${subject}: ${row.errors.at(-1)}`);
  } finally {
    await Promise.all([many.kill(), one.kill()]);
    await server.call('stop', undefined, 10_000).catch(() => {});
    await server.kill();
  }
  return row;
}

type Mem = { rss: number; heapUsed: number };

/**
 * Client RSS per connection once more, in a fresh process whose young generation cannot grow
 * (`--max-semi-space-size=1`, 1 MB semi-spaces): with V8's defaults a connect burst in which more
 * bytes survive per client makes V8 grow its young generation (up to 3 × 16 MB), and that reserve
 * stays in RSS after `gc()`; fixed, what remains is what the connections themselves hold. Same
 * method as `memoryAndFanOut` (base clients, then the rest, deltas ÷ count).
 */
async function rssWithFixedYoungGeneration(row: Row, url: string): Promise<void> {
  if (!row.mem) return;
  const fixed = spawnChild('client.ts', `${row.subject}/clients (1 MB semi-space)`, ['--max-semi-space-size=1']);
  try {
    await fixed.call('load', { subject: row.subject });
    await fixed.call('connectMany', { url, count: MEM_BASE_CLIENTS, concurrency: 20 }, CAPS.connect);
    await sleep(200);
    const before = await fixed.call<Mem>('mem');
    await fixed.call('connectMany', { url, count: CONFIG.clients - MEM_BASE_CLIENTS, concurrency: 50 }, CAPS.connect);
    await sleep(500);
    const after = await fixed.call<Mem>('mem');
    row.mem.clientRssFixedYoung = (after.rss - before.rss) / (CONFIG.clients - MEM_BASE_CLIENTS);
    record(row.subject, 'memory (1 MB semi-space)', { clientRss: row.mem.clientRssFixedYoung, unit: 'bytes per idle connected client' });
    await fixed.call('closeAll').catch(() => {});
  } finally {
    await fixed.kill();
  }
}

async function memoryAndFanOut(row: Row, server: Child, many: Child, url: string): Promise<void> {
  const { clients } = CONFIG;
  await many.call('connectMany', { url, count: MEM_BASE_CLIENTS, concurrency: 20 }, CAPS.connect);
  await sleep(200);
  const [c0, s0] = await Promise.all([many.call<Mem>('mem'), server.call<Mem>('mem')]);
  const t0 = Date.now();
  await many.call('connectMany', { url, count: clients - MEM_BASE_CLIENTS, concurrency: 50 }, CAPS.connect);
  log(`${row.subject}: ${clients} clients connected in ${Date.now() - t0} ms`);
  await sleep(500); // idle: let handshakes, timers and buffers settle
  const [c1, s1] = await Promise.all([many.call<Mem>('mem'), server.call<Mem>('mem')]);
  const per = (a: number, b: number): number => (b - a) / (clients - MEM_BASE_CLIENTS);
  row.mem = {
    clients,
    clientRss: per(c0.rss, c1.rss),
    clientHeap: per(c0.heapUsed, c1.heapUsed),
    serverRss: per(s0.rss, s1.rss),
    serverHeap: per(s0.heapUsed, s1.heapUsed),
  };
  record(row.subject, 'memory', { ...row.mem, unit: 'bytes per idle connected client', baselineClients: MEM_BASE_CLIENTS });

  // Fan-out: one broadcast at a time; the client process reports when the last of its clients got it.
  await many.call('armFan', { expect: clients });
  const lat: number[] = [];
  let waiting: { k: number; resolve(us: number): void } | undefined;
  const off = many.on('fan', ({ k, latUs }: { k: number; latUs: number }) => {
    if (waiting?.k === k) waiting.resolve(latUs);
  });
  const deadline = Date.now() + CAPS.fan;
  let timedOut = false;
  try {
    for (let k = 0; k < CONFIG.fanWarmup + CONFIG.fanMessages; k++) {
      const got = new Promise<number>((resolve, reject) => {
        waiting = { k, resolve };
        setTimeout(() => reject(new Error(`fan-out message ${k} not delivered to all ${clients} clients within 10 s`)), 10_000).unref();
      });
      await server.call('broadcast', { k });
      const us = await got;
      if (k >= CONFIG.fanWarmup) lat.push(us);
      if (Date.now() > deadline) {
        timedOut = lat.length < CONFIG.fanMessages;
        break;
      }
    }
  } finally {
    off();
  }
  const s = summarize(lat.map((us) => us / 1000));
  row.fan = { clients, messages: s.n, p50: s.p50, p99: s.p99, mean: s.mean, timedOut };
  record(row.subject, 'fanout', { ...row.fan, unit: 'ms until all clients received' });
}

async function pushAndRtt(row: Row, server: Child, one: Child, url: string): Promise<void> {
  await one.call('connectPush', { url }, 15_000);
  const run = async (n: number, sync: boolean): Promise<PushFigures> => {
    await one.call('armPush', { n });
    const cpu0 = await server.call<NodeJS.CpuUsage>('cpu');
    const waiting = one.call<{ received: number; timedOut: boolean; elapsedUs: number; cpuUs: number }>('waitPush', { timeoutMs: CAPS.push }, CAPS.push + 10_000);
    await server.call('push', { n, sync }, CAPS.push + 10_000);
    const r = await waiting;
    const cpu1 = await server.call<NodeJS.CpuUsage>('cpu');
    const serverCpuUs = cpu1.user - cpu0.user + (cpu1.system - cpu0.system);
    return {
      n,
      received: r.received,
      msgsPerSec: r.received / (r.elapsedUs / 1e6),
      clientCpuUsPerMsg: r.cpuUs / Math.max(1, r.received),
      serverCpuUsPerMsg: serverCpuUs / Math.max(1, r.received),
      timedOut: r.timedOut,
    };
  };
  await run(CONFIG.pushWarmup, false);
  row.push = await run(CONFIG.push, false);
  record(row.subject, 'push', { ...row.push, unit: 'messages/s handed to the app', method: 'server yields every 1,000' });
  await run(CONFIG.pushWarmup, true);
  row.pushSync = await run(CONFIG.push, true);
  record(row.subject, 'push-sync', { ...row.pushSync, unit: 'messages/s handed to the app', method: 'one synchronous loop, no yield' });

  const measureRtt = async (): Promise<RttFigures> => {
    const rtt = await one.call<{ samples: number[]; timedOut: boolean }>('rtt', { n: CONFIG.rtt, warmup: CONFIG.rttWarmup, timeoutMs: CAPS.rtt }, CAPS.rtt + 30_000);
    const s = summarize(rtt.samples);
    return { n: s.n, p50: s.p50, p99: s.p99, mean: s.mean, timedOut: rtt.timedOut };
  };
  row.rtt = await measureRtt();
  record(row.subject, 'rtt', { ...row.rtt, unit: 'µs publish → ack' });
  const pinned = pin([server.pid, one.pid], '0');
  if (pinned === true) {
    try {
      row.rttPinned = await measureRtt();
      record(row.subject, 'rtt-pinned', { ...row.rttPinned, unit: 'µs publish → ack', method: 'server and client pinned to core 0 (taskset)' });
    } finally {
      pin([server.pid, one.pid], `0-${cpus().length - 1}`);
    }
  } else {
    row.warnings.push(`pinned RTT not measured: ${pinned}`);
  }
  row.warnings.push(...(await one.call<string[]>('warnings')).map((w) => `push/RTT client process: ${w}`));
}

/** Set the CPU affinity of every thread of these processes (`taskset -a -p -c`); true, or why not. */
function pin(pids: readonly number[], cpuList: string): true | string {
  try {
    for (const pid of pids) execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return `taskset failed (${String((e as Error).message ?? e).split('\n')[0]})`;
  }
}

// ── report ───────────────────────────────────────────────────────────────

const fmt = (v: number | undefined, digits = 0): string =>
  v === undefined || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const kb = (bytes: number | undefined): string => fmt(bytes === undefined ? undefined : bytes / 1024, 1);
const capped = (v: string, timedOut?: boolean): string => (timedOut ? `${v}*` : v);

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ') + ' |';
  return [line(headers), '|' + widths.map((w, i) => (i === 0 ? ':' : '') + '-'.repeat(w + 1) + (i === 0 ? '' : ':')).join('|') + '|', ...rows.map(line)].join('\n');
}

function report(rows: Row[]): string {
  const by = new Map(rows.map((r) => [r.subject, r]));
  const out: string[] = [];
  out.push(
    table(
      ['subject', 'push msg/s', 'client µs/msg', 'server µs/msg', 'sync-loop push msg/s', 'RTT p50 µs', 'RTT p99 µs', 'pinned RTT p50 µs', 'fan-out p50 ms', 'fan-out p99 ms', 'client RSS KB/conn', 'client heap KB/conn', 'server RSS KB/conn', 'server heap KB/conn'],
      rows.map((r) =>
        r.unavailable
          ? [SUBJECT_LABELS[r.subject], `n/a: ${r.unavailable}`, '', '', '', '', '', '', '', '', '', '', '', '']
          : [
              SUBJECT_LABELS[r.subject],
              capped(fmt(r.push?.msgsPerSec), r.push?.timedOut),
              fmt(r.push?.clientCpuUsPerMsg, 2),
              fmt(r.push?.serverCpuUsPerMsg, 2),
              capped(fmt(r.pushSync?.msgsPerSec), r.pushSync?.timedOut),
              capped(fmt(r.rtt?.p50), r.rtt?.timedOut),
              capped(fmt(r.rtt?.p99), r.rtt?.timedOut),
              capped(fmt(r.rttPinned?.p50), r.rttPinned?.timedOut),
              capped(fmt(r.fan?.p50, 2), r.fan?.timedOut),
              capped(fmt(r.fan?.p99, 2), r.fan?.timedOut),
              kb(r.mem?.clientRss),
              kb(r.mem?.clientHeap),
              kb(r.mem?.serverRss),
              kb(r.mem?.serverHeap),
            ],
      ),
    ),
  );
  const notes = rows.filter((r) => r.push?.timedOut || r.rtt?.timedOut || r.fan?.timedOut);
  if (notes.length) {
    out.push(
      '* capped by the time limit; figure over what completed: ' +
        notes
          .map((r) => `${r.subject} (${[r.push?.timedOut && `push ${r.push.received}/${r.push.n}`, r.rtt?.timedOut && `RTT ${r.rtt.n}`, r.fan?.timedOut && `fan-out ${r.fan.messages} msgs`].filter(Boolean).join(', ')})`)
          .join('; '),
    );
  }
  for (const r of rows) if (r.errors.length) out.push(`errors in ${r.subject}: ${r.errors.join('; ')}`);
  for (const r of rows) for (const w of r.warnings) out.push(`warning in ${r.subject} ${w}`);

  // Ratios: each Tidewire subject against each relevant baseline.
  const pairs: [SubjectId, SubjectId][] = [
    ['tidewire-ws', 'ws'],
    ['tidewire-ws', 'socketio-ws'],
    ['tidewire-sse', 'sse'],
    ['tidewire-longpoll', 'socketio-polling'],
    ['tidewire-longpoll', 'socketio-polling-fetch'],
    ['tidewire-longpoll', 'sse'],
  ];
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || !b ? '—' : `${(a / b).toFixed(2)}×`);
  const ratioRows = pairs
    .filter(([a, b]) => by.get(a) && by.get(b) && !by.get(a)!.unavailable && !by.get(b)!.unavailable)
    .map(([a, b]) => {
      const x = by.get(a)!;
      const y = by.get(b)!;
      return [
        `${a} vs ${b}`,
        ratio(x.push?.msgsPerSec, y.push?.msgsPerSec),
        ratio(x.push?.clientCpuUsPerMsg, y.push?.clientCpuUsPerMsg),
        ratio(x.pushSync?.msgsPerSec, y.pushSync?.msgsPerSec),
        ratio(x.rtt?.p50, y.rtt?.p50),
        ratio(x.rttPinned?.p50, y.rttPinned?.p50),
        ratio(x.rtt?.p99, y.rtt?.p99),
        ratio(x.fan?.p50, y.fan?.p50),
        ratio(x.fan?.p99, y.fan?.p99),
        ratio(x.mem?.clientRss, y.mem?.clientRss),
        ratio(x.mem?.clientRssFixedYoung, y.mem?.clientRssFixedYoung),
        ratio(x.mem?.clientHeap, y.mem?.clientHeap),
        ratio(x.mem?.serverRss, y.mem?.serverRss),
      ];
    });
  if (ratioRows.length) {
    out.push('', 'Ratios (Tidewire ÷ baseline; push: higher is better, all others: lower is better)');
    out.push(table(['pair', 'push msg/s', 'client µs/msg', 'sync push', 'RTT p50', 'pinned RTT p50', 'RTT p99', 'fan-out p50', 'fan-out p99', 'client RSS', 'client RSS (1 MB semi-space)', 'client heap', 'server RSS'], ratioRows));
  }

  out.push('', 'Targets');
  const targetRows = TARGETS.map((t) => {
    const a = by.get(t.subject);
    const b = by.get(t.baseline);
    const va = a && !a.unavailable ? t.value(a) : undefined;
    const vb = b && !b.unavailable ? t.value(b) : undefined;
    if (va === undefined || vb === undefined || !vb) {
      const why = !a || !b ? 'not run' : a.unavailable ? `n/a (${t.subject}: ${a.unavailable})` : b.unavailable ? `n/a (${t.baseline}: ${b.unavailable})` : 'n/a (no figure)';
      return [t.name, '—', why];
    }
    // A non-positive figure (an RSS delta lost in allocator noise with few clients) is no measurement.
    if (va <= 0 || vb <= 0) return [t.name, '—', 'invalid (noise: non-positive figure; use the full run)'];
    const r = va / vb;
    const pass = t.kind === 'min' ? r >= t.limit : r <= t.limit;
    record(t.subject, 'target', { target: t.name, baseline: t.baseline, ratio: r, limit: t.limit, kind: t.kind, pass });
    return [t.name, `${r.toFixed(2)}×`, pass ? 'PASS' : 'FAIL'];
  });
  out.push(table(['target', 'measured', 'result'], targetRows));
  return out.join('\n');
}

async function main(): Promise<void> {
  const subjects = SUBJECT_IDS.filter((s) => !ONLY || ONLY.includes(s));
  const started = Date.now();
  log(`${QUICK ? 'quick' : 'full'} run: ${subjects.join(', ')} — push ${CONFIG.push}, RTT ${CONFIG.rtt}, ${CONFIG.clients} clients × ${CONFIG.fanMessages} fan-out messages`);
  const rows: Row[] = [];
  for (const subject of subjects) {
    const t0 = Date.now();
    const row = await benchSubject(subject);
    rows.push(row);
    log(`${subject}: ${row.unavailable ? `skipped (${row.unavailable})` : 'done'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (row.unavailable) record(subject, 'unavailable', { reason: row.unavailable });
    for (const w of row.warnings) record(subject, 'warning', { warning: w });
  }
  // The cluster scenario (cluster/run.ts): 3 nodes on Redis, Tidewire beside socket.io's Redis adapter.
  const clusterText = flag('--no-cluster') || (ONLY && !ONLY.includes('cluster' as SubjectId))
    ? undefined
    : await runClusterBench({ quick: QUICK, log, record: (subject, scenario, values) => void jsonLines.push(JSON.stringify({ subject, scenario, quick: QUICK, ...values })) }).catch(
        (e: unknown) => `Cluster: not run (${String((e as Error).message ?? e).split('\n')[0]}; it needs redis-server)`,
      );
  const text = report(rows);
  const machine = `node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ${process.platform}`;
  console.log(`\nTidewire benchmarks (${QUICK ? 'quick' : 'full'} run, ${((Date.now() - started) / 1000).toFixed(0)} s; ${machine})\n`);
  console.log(text);
  if (clusterText) console.log(`\n${clusterText}`);
  if (SVG_FILE) {
    const title = `Tidewire ÷ baselines (${QUICK ? 'quick' : 'full'} run ${new Date().toISOString().slice(0, 16)}Z; ${machine})`;
    writeFileSync(SVG_FILE, ratiosSvg(title, chartGroups(rows)));
    console.log(`\nratio chart written to ${SVG_FILE}`);
  }
  if (JSON_FILE) {
    writeFileSync(JSON_FILE, jsonLines.join('\n') + '\n');
    console.log(`\n${jsonLines.length} JSON lines written to ${JSON_FILE}`);
  } else {
    console.log('\nJSON lines:');
    console.log(jsonLines.join('\n'));
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
