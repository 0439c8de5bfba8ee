/**
 * CPU per fan-out broadcast, by process: 1,000 clients (one client process) subscribed to `fan`,
 * the server broadcasting one message at a time (`FAN_N`, default 300); p50/p99 until the last
 * client has it, and the server's and the client process's CPU per broadcast (`process.cpuUsage()`).
 * Steadier than the latency on a loaded machine: the figure to compare while changing code
 * (development only, not part of `pnpm bench`). `--prof`: V8 CPU profiles of both, top 30 by self time.
 *
 *   pnpm --filter @tidewire/bench exec tsx fan-cpu.ts [subject] [--prof]
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnChild } from './lib/ipc';
import { formatTop, topSelf } from './lib/cpuprofile-top';
import { summarize } from './lib/stats';
import type { SubjectId } from './subjects';
const subject = (process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 'tidewire-ws') as SubjectId;
const prof = process.argv.includes('--prof');
const dir = join(tmpdir(), `fan-cpu-${process.pid}/`);
rmSync(dir, { recursive: true, force: true }); mkdirSync(dir + 'client', { recursive: true }); mkdirSync(dir + 'server', { recursive: true });
const server = spawnChild('server.ts', 'server', prof ? ['--cpu-prof', `--cpu-prof-dir=${dir}server`] : []);
const client = spawnChild('client.ts', 'client', prof ? ['--cpu-prof', `--cpu-prof-dir=${dir}client`] : []);
const [{ url }] = await Promise.all([server.call<{ url: string }>('start', { subject }), client.call('load', { subject })]);
await client.call('connectMany', { url, count: 1000, concurrency: 50 }, 120_000);
await client.call('armFan', { expect: 1000 });
const lat: number[] = [];
let resolveOne: () => void = () => {};
client.on('fan', ({ latUs }: { latUs: number }) => { lat.push(latUs / 1000); resolveOne(); });
const c0 = await client.call<NodeJS.CpuUsage>('cpu');
const s0 = await server.call<NodeJS.CpuUsage>('cpu');
const N = Number(process.env.FAN_N ?? 300);
for (let k = 0; k < N; k++) {
  const got = new Promise<void>((r) => (resolveOne = r));
  await server.call('broadcast', { k });
  await got;
}
const s1 = await server.call<NodeJS.CpuUsage>('cpu');
const c1 = await client.call<NodeJS.CpuUsage>('cpu');
const s = summarize(lat.slice(20));
const us = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): string => ((b.user - a.user + b.system - a.system) / N).toFixed(0);
console.log(`${subject}: fan-out p50 ${s.p50.toFixed(2)} ms p99 ${s.p99.toFixed(2)}; CPU per broadcast: server ${us(s0, s1)} µs, client process ${us(c0, c1)} µs`);
await server.call('stop');
await Promise.all([client.kill(), server.kill()]);
if (prof) {
  for (const side of ['client', 'server']) {
    const file = readdirSync(`${dir}${side}`).find((f) => f.endsWith('.cpuprofile'));
    if (file) console.log('\n' + formatTop(`${subject} fan ${side}`, topSelf(JSON.parse(readFileSync(`${dir}${side}/${file}`, 'utf8')), 30)));
  }
}
if (!process.env.FAN_KEEP) rmSync(dir, { recursive: true, force: true });
else console.log(`profiles kept in ${dir}`);
