/**
 * Child process of cluster/brokerCost.ts: one "node" of the broker alone — a Redis broker that
 * either listens to one channel or publishes to it — reporting the CPU it spent on its part.
 * Children load the packages as the cluster nodes do (`TIDEWIRE_BENCH_SOURCE=1`: the sources), so
 * publisher and subscribers always speak the same notification format.
 */
import { createRedisBroker, type RedisBroker } from '@tidewire/redis';
import { serveChild } from '../lib/ipc';

let broker: RedisBroker | undefined;
let received: (count: number) => Promise<number> = () => Promise.reject(new Error('subscribe first'));
let next = 0;
const body = 'x'.repeat(80);

const connect = async (url: string, prefix: string): Promise<RedisBroker> => {
  broker = createRedisBroker({ url, prefix, onError: () => {} });
  await broker.ready();
  return broker;
};

serveChild({
  /** Listen to `channel`; `received` then measures the next messages. */
  async subscribe({ url, prefix, channel }: { url: string; prefix: string; channel: string }) {
    let got = 0;
    let want = Infinity;
    let start: NodeJS.CpuUsage | undefined;
    let done: (us: number) => void = () => {};
    await (
      await connect(url, prefix)
    ).subscribe(channel, undefined, () => {
      start ??= process.cpuUsage();
      if (++got !== want) return;
      const used = process.cpuUsage(start);
      done(used.user + used.system);
    });
    received = (count) =>
      new Promise<number>((resolve) => {
        [got, want, start, done] = [0, count, undefined, resolve];
      });
  },
  /** @returns CPU µs from the first of the next `count` messages to the last */
  received: ({ count }: { count: number }) => received(count),
  async open({ url, prefix }: { url: string; prefix: string }) {
    await connect(url, prefix);
  },
  /** Publish `count` messages to `channel`, `inFlight` awaiting their answer at once. @returns the CPU µs spent */
  async publish({ channel, count, inFlight }: { channel: string; count: number; inFlight: number }) {
    const start = process.cpuUsage();
    const end = next + count;
    const lane = async (): Promise<void> => {
      while (next < end) {
        const i = next++;
        await broker!.publish(channel, { id: `m${String(i).padStart(20, '0')}`, data: { i, body } });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const used = process.cpuUsage(start);
    return used.user + used.system;
  },
  async stop() {
    await broker?.close();
  },
});
