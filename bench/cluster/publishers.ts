/**
 * Child process of the cluster scenario: publish → ack throughput. `perNode` clients on each
 * node, each subscribed to `rtt` and publishing to it with at most `window` publishes awaiting their
 * ack, for `durationMs`; so every publish is acknowledged by its node and fanned out through Redis
 * to the subscribers on all nodes. Driven over IPC by cluster/run.ts.
 */
import { serveChild } from '../lib/ipc';
import { loadSubject, type SubjectId } from '../subjects';
import type { BenchClient, Subject } from '../subjects/types';

let subject: Subject;
const clients: BenchClient[] = [];
let delivered = 0;

serveChild({
  async load({ subject: id }: { subject: SubjectId }) {
    subject = await loadSubject(id);
  },
  async connect({ urls, perNode }: { urls: string[]; perNode: number }) {
    for (const url of urls) for (let i = 0; i < perNode; i++) clients.push(await subject.connect(url, 'rtt', () => void delivered++));
    return { connected: clients.length };
  },
  /** @returns acks and deliveries counted during the run, the elapsed µs, and failed publishes */
  async run({ window, durationMs }: { window: number; durationMs: number }) {
    const body = 'x'.repeat(80);
    let acks = 0;
    let failed = 0;
    delivered = 0;
    const start = process.hrtime.bigint();
    const end = Date.now() + durationMs;
    const lane = async (c: BenchClient): Promise<void> => {
      for (let i = 0; Date.now() < end; i++) {
        try {
          await c.publish({ i, body });
          acks++;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(clients.flatMap((c) => Array.from({ length: window }, () => lane(c))));
    const elapsedUs = Number(process.hrtime.bigint() - start) / 1000;
    const deliveredDuring = delivered;
    return { acks, failed, delivered: deliveredDuring, elapsedUs };
  },
  cpu: () => process.cpuUsage(),
  closeAll() {
    for (const c of clients.splice(0)) c.close();
  },
});
