/** Child process: runs one subject's server. Driven by run.ts over IPC. */
import { memory, nowUs, serveChild } from './lib/ipc';
import { loadSubject, type SubjectId } from './subjects';
import type { BenchServer } from './subjects/types';

const BODY = 'x'.repeat(80);
let server: BenchServer | undefined;

serveChild({
  async start({ subject }: { subject: SubjectId }) {
    server = await (await loadSubject(subject)).startServer();
    return { url: server.url };
  },
  /**
   * ~100-byte JSON messages: {"i":123456,"body":"xxxx…"}. `sync`: all `n` in one synchronous loop
   * (no yield: how a backlog, an import or a batch fan-out publishes); otherwise yielding every 1,000.
   */
  async push({ n, sync = false }: { n: number; sync?: boolean }) {
    const t0 = nowUs();
    await server!.push(n, (i) => ({ i, body: BODY }), sync ? Infinity : undefined);
    return { sendUs: nowUs() - t0 };
  },
  /** One message to every `fan` subscriber, stamped with the send time (CLOCK_MONOTONIC, shared by all processes). */
  async broadcast({ k }: { k: number }) {
    await server!.broadcast({ k, t: nowUs(), body: BODY.slice(0, 40) });
  },
  mem: () => memory(),
  cpu: () => process.cpuUsage(),
  async stop() {
    await server?.close();
    server = undefined;
  },
});
