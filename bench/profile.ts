/**
 * One `node --cpu-prof` profile of the push scenario (default: the Tidewire WebSocket client and
 * server, 200,000 messages), then the top 15 functions by self time for each process.
 *
 *   pnpm --filter @tidewire/bench profile [subject] [--n 200000] [--sync | --rtt [--pin]]
 *
 * `--sync`: the server publishes in one synchronous loop (no yield), as in the bench's sync-loop scenario.
 * `--rtt`: the publish→ack RTT scenario instead of push (`--n` sequential publishes, default 20,000);
 * `--pin`: with both processes pinned to core 0 (`taskset`), as in the pinned RTT scenario.
 *
 * Profiles land in bench/.profiles/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnChild } from './lib/ipc';
import { formatTop, topSelf } from './lib/cpuprofile-top';
import { summarize } from './lib/stats';
import type { SubjectId } from './subjects';

const argv = process.argv.slice(2);
const subject = (argv.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? 'tidewire-ws') as SubjectId;
const nIdx = argv.indexOf('--n');
const rtt = argv.includes('--rtt');
const n = nIdx >= 0 ? Number(argv[nIdx + 1]) : rtt ? 20_000 : 200_000;
const sync = argv.includes('--sync');
const pinned = argv.includes('--pin');
const dir = fileURLToPath(new URL('./.profiles/', import.meta.url));
rmSync(dir, { recursive: true, force: true });
mkdirSync(`${dir}client`, { recursive: true });
mkdirSync(`${dir}server`, { recursive: true });

const server = spawnChild('server.ts', 'server', ['--cpu-prof', `--cpu-prof-dir=${dir}server`]);
const client = spawnChild('client.ts', 'client', ['--cpu-prof', `--cpu-prof-dir=${dir}client`]);
const [{ url }] = await Promise.all([server.call<{ url: string }>('start', { subject }), client.call('load', { subject })]);
await client.call('connectPush', { url });
if (rtt) {
  if (pinned) for (const pid of [server.pid, client.pid]) execFileSync('taskset', ['-a', '-p', '-c', '0', String(pid)], { stdio: 'ignore' });
  const r = await client.call<{ samples: number[] }>('rtt', { n, warmup: 200, timeoutMs: 120_000 }, 180_000);
  const s = summarize(r.samples);
  console.log(`${subject} ${pinned ? 'pinned ' : ''}RTT ${s.n}: p50 ${s.p50.toFixed(0)} µs, p99 ${s.p99.toFixed(0)} µs (under the profiler)`);
}
for (const count of rtt ? [] : [n / 10, n]) {
  await client.call('armPush', { n: count });
  const waiting = client.call<{ received: number; elapsedUs: number; cpuUs: number }>('waitPush', { timeoutMs: 60_000 }, 90_000);
  await server.call('push', { n: count, sync }, 90_000);
  const r = await waiting;
  console.log(`${subject} ${sync ? 'sync-loop ' : ''}push ${count}: ${Math.round(r.received / (r.elapsedUs / 1e6)).toLocaleString('en-US')} msg/s (under the profiler), client ${(r.cpuUs / r.received).toFixed(2)} µs/msg`);
}
await server.call('stop');
await Promise.all([client.kill(), server.kill()]);

for (const side of ['client', 'server']) {
  const file = readdirSync(`${dir}${side}`).find((f) => f.endsWith('.cpuprofile'));
  if (!file) {
    console.log(`no ${side} profile written`);
    continue;
  }
  console.log('\n' + formatTop(`${subject} ${rtt ? 'RTT' : 'push'} ${side} (${side}.ts, ${n.toLocaleString('en-US')} + ${(n / 10).toLocaleString('en-US')} warm-up messages)`, topSelf(JSON.parse(readFileSync(`${dir}${side}/${file}`, "utf8")), Number(process.env.PROFILE_TOP ?? 15))));
}
