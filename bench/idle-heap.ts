/**
 * What one idle, subscribed client costs in memory — Tidewire (from `packages/core/src`, so a
 * change shows without a build) against raw `ws` (the baseline; Tidewire's WebSocket transport
 * uses `ws` underneath on Node 20, so the difference is what Tidewire's own objects add).
 *
 *   npx tsx bench/idle-heap.ts                      both subjects, 1,000 clients each
 *   npx tsx bench/idle-heap.ts --only tidewire      one subject (tidewire | ws)
 *   npx tsx bench/idle-heap.ts --n 200 --top 40     fewer clients, more rows in the breakdown
 *   npx tsx bench/idle-heap.ts --no-snapshot        figures only, with RSS (a snapshot of 1,000 clients takes a while)
 *   npx tsx bench/idle-heap.ts --keep-snapshots dir the two snapshots, for DevTools' comparison view
 *   IDLE_HEAP_CORE=/tmp/old/packages/core/src/index.ts npx tsx bench/idle-heap.ts   another checkout's client
 *
 * Method: the server runs in a child process (so its heap is not counted). This process connects
 * a base of 10 clients (one-time costs: code, JIT, the first socket), forces GC, reads heap and
 * RSS and takes a heap snapshot; then connects N more, waits until every one is subscribed
 * (`subscribed` for Tidewire, socket open for ws), lets timers and buffers settle, forces GC and
 * reads again. Per-client figures are the deltas ÷ N. The breakdown diffs the two snapshots by
 * constructor (node type and name): objects per client × self size, largest first.
 */
import { fork } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { build } from 'esbuild';
import type * as Core from '../packages/core/src/index';
import { clientMinify } from '../scripts/size-config.mjs';
import { rawWs } from './subjects/ws';
import { BENCH_SERVER_OPTIONS } from './subjects/tidewire';

type SubjectName = 'tidewire' | 'ws';
const argv = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const BASE = 10;
const N = Number(option('--n') ?? 1000);
const TOP = Number(option('--top') ?? 25);
const SNAPSHOT = !argv.includes('--no-snapshot');
/** Keep the two snapshots here (`<subject>-before.heapsnapshot`, `-after`) for DevTools' comparison view. */
const KEEP_DIR = option('--keep-snapshots');

// `npx tsx` does not pass --expose-gc on; turn it on from inside (it only needs to precede the lookup).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Child mode: serve one subject and print its URL. */
async function serve(subject: SubjectName): Promise<void> {
  let url: string;
  if (subject === 'ws') {
    url = (await rawWs.startServer()).url;
  } else {
    const { createServer } = await import('@tidewire/server') // its built dist, like the bench: the server is not what is measured;
    url = (await createServer(BENCH_SERVER_OPTIONS).listen(0)).url;
  }
  process.send!({ url });
}

function startServer(subject: SubjectName): Promise<{ url: string; stop(): void }> {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', subject], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ url: (m as { url: string }).url, stop: () => child.kill() }));
    child.once('exit', (code) => reject(new Error(`server child exited (${code})`)));
  });
}

/**
 * The client as apps run it: `packages/core/src` bundled the way the published build is (es2022,
 * internal members mangled). Not through tsx, whose `keepNames` gives every function a `name`
 * property and so a property dictionary (~256 B per closure) that no shipped build has.
 */
async function loadCore(): Promise<typeof Core> {
  const outfile = join(tmpdir(), `idle-heap-core-${process.pid}.mjs`);
  await build({
    // IDLE_HEAP_CORE=<dir>/packages/core/src/index.ts measures another checkout (e.g. a `git archive` of an older commit).
    entryPoints: [process.env.IDLE_HEAP_CORE ?? fileURLToPath(new URL('../packages/core/src/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    outfile,
    logLevel: 'error',
    ...clientMinify,
  });
  try {
    return (await import(outfile)) as typeof Core;
  } finally {
    rmSync(outfile);
  }
}

/** Connect one Tidewire client and resolve once its channel is `subscribed`. */
function connectTidewire({ createClient, websocket }: typeof Core, url: string, channel: string, keep: unknown[]): Promise<void> {
  const client: Core.Client = createClient({ url, WebSocket: WebSocket as unknown as Core.WebSocketConstructor, transports: [websocket()] });
  const ch = client.channel(channel);
  ch.on('message', () => {});
  keep.push(client);
  return new Promise((resolve, reject) => {
    const off = ch.subscribe(() => {
      const s = ch.getSnapshot();
      if (s.state !== 'subscribed' && s.state !== 'failed') return;
      off();
      if (s.state === 'subscribed') resolve();
      else reject(s.error);
    });
  });
}

async function connectMany(core: typeof Core | undefined, url: string, count: number, keep: unknown[]): Promise<void> {
  const one = (): Promise<unknown> => (core ? connectTidewire(core, url, 'fan', keep) : rawWs.connect(url, 'fan', () => {}).then((c) => keep.push(c)));
  for (let done = 0; done < count; ) {
    const batch = Math.min(50, count - done);
    await Promise.all(Array.from({ length: batch }, one));
    done += batch;
  }
}

function memory(): { heap: number; rss: number } {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss };
}

type Census = Map<string, { count: number; size: number }>;

/** Count the live objects of a heap snapshot by `type:name` (self sizes). */
function census(keepAs?: string): Census {
  const file = keepAs ?? join(tmpdir(), `idle-heap-${process.pid}-${Date.now()}.heapsnapshot`);
  writeHeapSnapshot(file);
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[] } };
    nodes: number[];
    edges: number[];
    strings: string[];
  };
  if (!keepAs) rmSync(file);
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt, edgesAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => fields.indexOf(f)) as [number, number, number, number];
  const edgeWidth = snap.snapshot.meta.edge_fields.length;
  const toAt = snap.snapshot.meta.edge_fields.indexOf('to_node');
  const types = snap.snapshot.meta.node_types[0];
  const nameOf = (i: number): string => snap.strings[snap.nodes[i + nameAt]!]!;
  const typeOf = (i: number): string => types[snap.nodes[i + typeAt]!]!;
  // Backing stores (property dictionaries, Map/Set tables, closure contexts) are named by what holds them.
  const owner = new Map<number, number>();
  for (let i = 0, e = 0; i < snap.nodes.length; i += width) {
    for (let k = 0; k < snap.nodes[i + edgesAt]!; k++, e += edgeWidth) {
      const to = snap.edges[e + toAt]!;
      if (!owner.has(to)) owner.set(to, i);
    }
  }
  const out: Census = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = typeOf(i);
    const name = nameOf(i);
    // Strings and code are keyed by kind only: their names are their contents.
    let key = type === 'string' || type === 'concatenated string' || type === 'sliced string' || type === 'code' || type === 'number' ? type : `${type}:${name.slice(0, 40)}`;
    if ((type === 'array' || type === 'hidden' || name === 'system / Context') && owner.has(i)) {
      const o = owner.get(i)!;
      key += ` ← ${typeOf(o)}:${nameOf(o).slice(0, 30)}`;
    }
    const row = out.get(key) ?? { count: 0, size: 0 };
    row.count++;
    row.size += snap.nodes[i + sizeAt]!;
    out.set(key, row);
  }
  return out;
}

function printDiff(before: Census, after: Census, clients: number): void {
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, size: 0 };
    return { key, count: (a.count - b.count) / clients, size: (a.size - b.size) / clients };
  });
  rows.sort((x, y) => y.size - x.size);
  const total = rows.reduce((s, r) => s + r.size, 0);
  console.log(`  per client, by constructor (snapshot diff; total ${(total / 1024).toFixed(2)} KB):`);
  for (const r of rows.slice(0, TOP)) {
    if (Math.abs(r.size) < 8) break;
    console.log(`    ${r.count.toFixed(2).padStart(7)} × ${r.key.padEnd(80)} ${r.size.toFixed(0).padStart(6)} B`);
  }
}

async function measure(subject: SubjectName): Promise<{ heap: number; rss: number }> {
  const core = subject === 'tidewire' ? await loadCore() : undefined;
  const server = await startServer(subject);
  const keep: unknown[] = [];
  try {
    await connectMany(core, server.url, BASE, keep);
    await sleep(300);
    const m0 = memory();
    // The first census waits in a file, so it is not part of the heap the second one counts.
    const c0File = join(tmpdir(), `idle-heap-census-${process.pid}.json`);
    if (SNAPSHOT) writeFileSync(c0File, JSON.stringify([...census(KEEP_DIR && join(KEEP_DIR, `${subject}-before.heapsnapshot`))]));
    await connectMany(core, server.url, N, keep);
    await sleep(500); // idle: let handshakes, timers and buffers settle
    const m1 = memory();
    const per = { heap: (m1.heap - m0.heap) / N, rss: (m1.rss - m0.rss) / N };
    // A heap snapshot grows the heap by far more than the clients do, so RSS only means something without one.
    const rss = SNAPSHOT ? '(RSS: run with --no-snapshot)' : `RSS ${(per.rss / 1024).toFixed(2)} KB/client`;
    console.log(`${subject}: ${N} idle subscribed clients — heap ${(per.heap / 1024).toFixed(2)} KB/client, ${rss}`);
    if (SNAPSHOT) {
      const after = census(KEEP_DIR && join(KEEP_DIR, `${subject}-after.heapsnapshot`));
      const before: Census = new Map(JSON.parse(readFileSync(c0File, 'utf8')) as [string, { count: number; size: number }][]);
      rmSync(c0File);
      printDiff(before, after, N);
    }
    return per;
  } finally {
    for (const c of keep) (c as { close(): void }).close();
    server.stop();
  }
}

const serveAs = option('--serve') as SubjectName | undefined;
if (serveAs) {
  await serve(serveAs);
} else {
  const only = option('--only') as SubjectName | undefined;
  if (only) {
    const figures = await measure(only);
    process.send?.(figures);
  } else {
    // Each subject in a fresh process, so the first one's heap and RSS do not shape the second's.
    const results: Partial<Record<SubjectName, { heap: number; rss: number }>> = {};
    for (const s of ['ws', 'tidewire'] as const) {
      const child = fork(fileURLToPath(import.meta.url), [...argv, '--only', s], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      results[s] = await new Promise((resolve, reject) => {
        child.once('message', (m) => resolve(m as { heap: number; rss: number }));
        child.once('exit', (code) => reject(new Error(`${s} child exited (${code})`)));
      });
    }
    console.log(`ratio: heap ${(results.tidewire!.heap / results.ws!.heap).toFixed(2)}×, RSS ${(results.tidewire!.rss / results.ws!.rss).toFixed(2)}×`);
  }
  process.exit(0);
}
