import { BroadcastChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestError } from '@tidewire/core';
import type { TidewireError, TransportFactory } from '@tidewire/core';
import { createSharedClient, inProcessLocks } from '@tidewire/core/shared';
import type { SharedClient } from '@tidewire/core/shared';
import { serveSharedConnection } from '@tidewire/core/shared-worker';
import { PublishRefusal } from '@tidewire/server';
import { until } from './helpers/servers';
import { allTransports, startQuietServer } from './helpers/transports';

/**
 * A shared client's tabs hear the connection's `error` events as a private client's app would:
 * a publish the real server refuses `rate_limited` (its onPublish throwing PublishRefusal) reaches
 * `on('error')` in every tab — the publishing one and the others — as the same RequestError (code,
 * message, `context.id`, `context.retryAfter`), through a leader tab and through a SharedWorker.
 * Node: in-process Web Locks, Node's BroadcastChannel, and a SharedWorker stand-in whose ports are
 * real MessageChannel ports served by `serveSharedConnection`.
 */

type Mode = 'leader' | 'worker';
const Bus = BroadcastChannel as unknown as typeof globalThis.BroadcastChannel;
const realSharedWorker = (globalThis as { SharedWorker?: unknown }).SharedWorker;
const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const done of cleanup.splice(0).reverse()) done();
  Object.assign(globalThis, { SharedWorker: realSharedWorker });
});

/** A SharedWorker running `serveSharedConnection` in this process: every `new SharedWorker()` connects a port to it. */
function inProcessWorker(url: string, transport: () => TransportFactory, locks: LockManager): () => SharedWorker {
  let connect: ((event: MessageEvent) => void) | undefined;
  const scope = { addEventListener: (_type: 'connect', listener: (event: MessageEvent) => void) => void (connect = listener), navigator: { locks } };
  cleanup.push(serveSharedConnection({ url, transports: [transport()], backoff: () => 20 }, scope));
  class InProcessSharedWorker extends EventTarget {
    readonly port: MessagePort;
    constructor() {
      super();
      const { port1, port2 } = new MessageChannel();
      this.port = port1;
      cleanup.push(() => port2.close());
      connect!({ ports: [port2] } as unknown as MessageEvent);
    }
  }
  Object.assign(globalThis, { SharedWorker: InProcessSharedWorker });
  return () => new InProcessSharedWorker() as unknown as SharedWorker;
}

describe.each(allTransports)('a shared connection over %s', (_name, transport) => {
  it.each<Mode>(['leader', 'worker'])('through a %s: a publish refused rate_limited reaches every tab on("error") as the RequestError a private client reports', async (mode) => {
    let refusals = 1;
    await using t = await startQuietServer(transport, {
      onPublish: () => {
        if (refusals-- > 0) throw new PublishRefusal('at most 3 messages per 5 s', 'rate_limited', { retryAfter: 150 });
      },
    });
    const locks = inProcessLocks();
    const worker = mode === 'worker' ? inProcessWorker(t.url, transport, locks) : undefined;
    const name = `errors-${Math.random()}`;
    const open = (): SharedClient => {
      const tab = createSharedClient({ url: t.url, name, mode, locks, BroadcastChannel: Bus, worker, transports: [transport()], backoff: () => 20 });
      cleanup.push(() => tab.close());
      return tab;
    };
    const first = open();
    if (mode === 'leader') await until(() => first.isLeader, 'the first tab leads');
    const second = open();
    const heard = new Map<SharedClient, TidewireError[]>([
      [first, []],
      [second, []],
    ]);
    for (const [tab, errors] of heard) tab.on('error', (e) => void errors.push(e));

    // The tab that does not hold the connection publishes (with a worker, neither does).
    const ack = await second.publish('room', 'held once');
    expect(ack.offset).toBe(1); // held and sent again, stored once
    await until(() => [...heard.values()].every((errors) => errors.length > 0), 'every tab heard the error', 20_000);
    await new Promise((r) => setTimeout(r, 100)); // nothing more trickles in

    expect(first.isLeader).toBe(mode === 'leader');
    expect(second.isLeader).toBe(false);
    for (const errors of heard.values()) {
      expect(errors).toHaveLength(1);
      const [error] = errors;
      expect(error).toBeInstanceOf(RequestError);
      expect(error).toMatchObject({ name: 'RequestError', code: 'rate_limited', message: 'at most 3 messages per 5 s' });
      expect(error!.context).toMatchObject({ id: ack.id, retryAfter: 150 });
    }
    expect(t.server.metrics().refused.rate_limited).toBe(1);
  }, 60_000);
});
