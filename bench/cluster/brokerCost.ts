/**
 * The broker's CPU per message, measured apart from the cluster scenario: CPU time rather than
 * msg/s, so a shared, loaded machine moves it far less than it moves the cluster figures.
 * One process publishes `messages` to one channel through `@tidewire/redis` (the same batching as
 * a node: 128 publishes in flight, answered once stored), three subscriber processes listen (as
 * three nodes would); reported per message: Redis's CPU (`INFO cpu`), the publishing process's
 * CPU (batching, the script call, its reply) and a subscribed node's CPU (pub/sub read, decode,
 * feed, listener). History is full before the measured part, so trims run.
 *
 *   TIDEWIRE_BENCH_SOURCE=1 tsx cluster/brokerCost.ts [--messages 96000] [--rounds 3]
 *
 * (`TIDEWIRE_CLUSTER_PROFILE=<dir>` as for run.ts: the children write CPU profiles there.)
 */
import { createClient } from '@redis/client';
import { startRedis } from '../../packages/redis/test/redis-server';
import { spawnChild } from '../lib/ipc';

const argValue = (flag: string, fallback: number): number => {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = argValue('--messages', 96_000);
const ROUNDS = argValue('--rounds', 3);
const IN_FLIGHT = 128;
const SUBSCRIBERS = 3;
/** As in run.ts: `TIDEWIRE_BENCH_SOURCE=1` loads the sources, `TIDEWIRE_CLUSTER_PROFILE=<dir>` writes the children's CPU profiles. */
const EXTRA_ARGV = [
  ...(process.env.TIDEWIRE_BENCH_SOURCE ? ['--conditions=@tidewire/source'] : []),
  ...(process.env.TIDEWIRE_CLUSTER_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TIDEWIRE_CLUSTER_PROFILE}`] : []),
];
const where = { prefix: 'cost', channel: 'load' };

const redis = await startRedis();
const admin = createClient({ url: redis.url });
await admin.connect();
const redisCpuSeconds = async (): Promise<number> => {
  const info = String(await admin.sendCommand(['INFO', 'cpu']));
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
};
const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => spawnChild('cluster/brokerNode.ts', `subscriber-${i + 1}`, EXTRA_ARGV));
const publisher = spawnChild('cluster/brokerNode.ts', 'publisher', EXTRA_ARGV);
const publish = (count: number) => publisher.call<number>('publish', { channel: where.channel, count, inFlight: IN_FLIGHT }, 600_000);
try {
  await publisher.call('open', { url: redis.url, prefix: where.prefix });
  await Promise.all(subscribers.map((s) => s.call('subscribe', { url: redis.url, ...where })));
  await publish(2_000); // past history.size (1000): the trims run in the measured part
  const rows: string[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const received = Promise.all(subscribers.map((s) => s.call<number>('received', { count: MESSAGES }, 600_000)));
    const redisBefore = await redisCpuSeconds();
    const publisherUs = await publish(MESSAGES);
    const subscriberUs = await received;
    const redisUs = ((await redisCpuSeconds()) - redisBefore) * 1e6;
    const per = (us: number) => (us / MESSAGES).toFixed(2);
    rows.push(`| ${round} | ${per(redisUs)} | ${per(publisherUs)} | ${subscriberUs.map(per).join(' / ')} |`);
  }
  console.log(`Broker CPU µs per message (${MESSAGES.toLocaleString('en')} messages a round, ${IN_FLIGHT} in flight, ${SUBSCRIBERS} subscribed nodes)`);
  console.log('| round | Redis | publishing process | each subscribed node |');
  console.log('|--:|--:|--:|:--|');
  for (const row of rows) console.log(row);
} finally {
  await Promise.allSettled([publisher, ...subscribers].map((c) => c.call('stop', undefined, 10_000)));
  await Promise.allSettled([publisher, ...subscribers].map((c) => c.kill()));
  await admin.close();
  await redis.stop({ kill: true });
}
