/** Child process: runs clients of one subject, so their CPU and memory are measured apart from the server's. */
import { memory, nowUs, serveChild } from './lib/ipc';
import { loadSubject, type SubjectId } from './subjects';
import type { BenchClient, Subject } from './subjects/types';

let subject: Subject;

// Process warnings (e.g. MaxListenersExceededWarning) are findings, not noise: count them and report once.
const warnings = new Map<string, number>();
process.removeAllListeners('warning');
process.on('warning', (w) => {
  const key = `${w.name}: ${w.message.replace(/\d+/g, 'N')}`;
  warnings.set(key, (warnings.get(key) ?? 0) + 1);
});
const clients: BenchClient[] = [];

// push state
let pushCount = 0;
let pushTarget = Infinity;
let pushFirst = 0;
let pushLast = 0;
let pushDone: (() => void) | undefined;

// fan-out state
let fanExpect = 0;
const fanCounts = new Map<number, number>();

const child = serveChild({
  async load({ subject: id }: { subject: SubjectId }) {
    subject = await loadSubject(id);
  },

  /** Connect one client and see whether it gets subscribed (used to detect transports the server lacks). */
  async probe({ url, timeoutMs }: { url: string; timeoutMs: number }) {
    let timer: NodeJS.Timeout | undefined;
    try {
      const c = await Promise.race([
        subject.connect(url, 'probe', () => {}),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`not subscribed within ${timeoutMs} ms`)), timeoutMs))),
      ]);
      c.close();
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: String((e as Error).message ?? e) };
    } finally {
      clearTimeout(timer);
    }
  },

  async connectPush({ url }: { url: string }) {
    const c = await subject.connect(url, 'push', () => {
      if (++pushCount === 1) pushFirst = nowUs();
      if (pushCount === pushTarget) {
        pushLast = nowUs();
        pushDone?.();
      }
    });
    clients.push(c);
  },

  /** Reset counters right before the server starts pushing. */
  armPush({ n }: { n: number }) {
    pushCount = 0;
    pushTarget = n;
    pushFirst = pushLast = 0;
    (globalThis as { gc?: () => void }).gc?.();
    const cpu = process.cpuUsage();
    const start = nowUs();
    const done = new Promise<void>((r) => (pushDone = r));
    return void (armed = { cpu, start, done });
  },

  /** Wait until all `n` arrived (or the deadline); messages/s and client CPU per message. */
  async waitPush({ timeoutMs }: { timeoutMs: number }) {
    const { cpu, done } = armed!;
    let timedOut = false;
    await Promise.race([done, new Promise<void>((r) => setTimeout(() => ((timedOut = true), r()), timeoutMs))]);
    const used = process.cpuUsage(cpu);
    const end = timedOut ? nowUs() : pushLast;
    const received = pushCount;
    return { received, timedOut, elapsedUs: end - pushFirst, cpuUs: used.user + used.system };
  },

  /** Sequential publish → ack on the push client's connection. */
  async rtt({ n, warmup, timeoutMs }: { n: number; warmup: number; timeoutMs: number }) {
    const c = clients[0]!;
    const body = 'x'.repeat(80);
    for (let i = 0; i < warmup; i++) await c.publish({ i, body });
    const lat: number[] = [];
    const cpu = process.cpuUsage();
    const deadline = nowUs() + timeoutMs * 1000;
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await c.publish({ i, body });
      lat.push(Number(process.hrtime.bigint() - t0) / 1000);
      if (nowUs() > deadline) break;
    }
    const used = process.cpuUsage(cpu);
    return { samples: lat, timedOut: lat.length < n, cpuUs: used.user + used.system, userUs: used.user };
  },

  /** Connect `count` clients subscribed to `fan`, `concurrency` at a time. */
  async connectMany({ url, count, concurrency }: { url: string; count: number; concurrency: number }) {
    const onData = (m: { k: number; t: number }): void => {
      const got = (fanCounts.get(m.k) ?? 0) + 1;
      if (got === fanExpect) {
        fanCounts.delete(m.k);
        child.emit('fan', { k: m.k, latUs: nowUs() - m.t });
      } else fanCounts.set(m.k, got);
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        next++;
        clients.push(await subject.connect(url, 'fan', onData));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
    return { connected: clients.length };
  },

  armFan({ expect }: { expect: number }) {
    fanExpect = expect;
    fanCounts.clear();
  },

  mem: () => memory(),

  /** CPU used so far by this process (for per-message figures of development scripts). */
  cpu: () => process.cpuUsage(),

  warnings: () => [...warnings].map(([w, n]) => `${w} (×${n})`),

  closeAll() {
    for (const c of clients.splice(0)) c.close();
  },
});

let armed: { cpu: NodeJS.CpuUsage; start: number; done: Promise<void> } | undefined;
