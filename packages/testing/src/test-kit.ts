import { createClient, type Client, type ClientOptions } from '@tidewire/core';
import { createServer, MemoryBroker, TidewireServerError, type Authenticate, type Broker, type ServerClock, type ServerOptions, type TidewireServer } from '@tidewire/server';
import { ClientNetwork } from './client-network';
import { TestKitError } from './errors';
import { Faults, TokenRefusals, type RestartOptions } from './faults';
import { inProcessTransport } from './in-process-transport';
import { ManualClock } from './manual-clock';
import { inProcessRequest } from './request';
import { Wire } from './wire';

/** Options for `kit.client()`: the client's own, minus what the kit wires (url, transports, clock). */
export interface TestClientOptions extends Omit<ClientOptions, 'url' | 'transports' | 'clock' | 'WebSocket' | 'fetch'> {
  /** Shown to the server's hooks as the request path (default `/tidewire`). */
  path?: string;
  /** Request headers the server's hooks see (`cookie`, `origin`, …); names are case-insensitive. */
  headers?: Readonly<Record<string, string>>;
}

/** What `createTestKit` returns. Dispose with `await kit.close()` (or `await using kit = …`). */
export interface TestKit extends AsyncDisposable {
  /** The in-process server (a real `TidewireServer`; the current one after a restart). */
  readonly server: TidewireServer;
  /**
   * A real client (`createClient`) wired to the server through memory, on the kit clock.
   * @param options the client's options, minus url/transports/clock; plus request `headers`
   * @returns the client; `kit.close()` closes it
   * @throws TestKitError `closed` once the kit is closed
   */
  client(options?: TestClientOptions): Client;
  /** The one clock of the client(s), the server's sessions and broker, and injected delays. */
  readonly clock: ManualClock;
  readonly faults: Faults;
  /**
   * Wait until the in-memory network is at rest: every frame sent has arrived and what it started
   * has run. Time does not move (see `clock.advance`).
   * @throws TestKitError `not_settled` (rejects) for a frame loop that never ends
   */
  settle(): Promise<void>;
  /** Close every client, the server and the kit's broker. Idempotent. */
  close(): Promise<void>;
}

/**
 * An in-process Tidewire server (the real server logic, no sockets), real clients wired to it,
 * one controllable clock and fault injection — to test app code against real behaviour.
 *
 * The kit's clock drives every timer of its clients, of the server's sessions (connect deadline,
 * heartbeats, token expiry) and of its broker (history TTL, dedupe window), plus injected
 * delays. Nothing else: hooks that wait on real timers, and the server's HTTP transports, run in
 * real time. Frames move on macrotasks, so real-time polling (`vi.waitFor`) also works.
 *
 * @param serverOptions `createServer` options, all honoured (`authenticate`, `authorize`,
 *   `heartbeat`, `history`, `dedupe`, `limits`…). A custom `broker` is used as given (and
 *   `faults.restart({ history: false })` is then refused).
 * @returns the kit; close it after each test
 * @throws TidewireServerError `invalid_options` when `createServer` would
 * @example
 * ```ts
 * import { createTestKit } from '@tidewire/testing';
 *
 * test('bob gets what was published while his line was down, once', async () => {
 *   await using kit = createTestKit();
 *   const bob = kit.client();
 *   const seen: unknown[] = [];
 *   bob.channel('room:1').on('message', (m) => seen.push(m.data));
 *   await kit.settle();
 *   kit.faults.drop();                          // every client's line fails
 *   await kit.server.publish('room:1', 'hi');   // while bob is away
 *   await kit.clock.advanceUntil(() => bob.getSnapshot().state === 'connected'); // past his jittered backoff
 *   await kit.settle();
 *   expect(seen).toEqual(['hi']);
 * });
 * ```
 */
export function createTestKit<User = unknown>(serverOptions: ServerOptions<User> = {}): TestKit {
  const wire = new Wire();
  const clock = new ManualClock(Date.now(), () => wire.settle(), (fn) => wire.post(fn));
  // The server's Clock types its timer handles for its own system clock; the kit's handles are opaque
  // objects it only ever gets back in clearTimeout, so the cast is sound.
  const serverClock = clock as unknown as ServerClock;
  const refusals = new TokenRefusals();
  const networks = new Map<Client, ClientNetwork>();
  const { history, dedupe, broker: appBroker, authenticate, ...rest } = serverOptions;
  // createServer refuses both together (they configure the default broker); the kit builds that broker itself, so it checks.
  if (appBroker && (history || dedupe)) {
    throw new TidewireServerError('invalid_options', 'Invalid Tidewire server options: `history` and `dedupe` configure the default broker; configure your own `broker` directly instead');
  }
  const newBroker = (): Broker => new MemoryBroker({ ...(history && { history }), ...(dedupe && { dedupe }), clock: serverClock });
  let broker = appBroker ?? newBroker();
  const guardedAuthenticate: Authenticate<User> = async (ctx) => {
    if (refusals.refuses(ctx.token)) return null;
    return authenticate ? authenticate(ctx) : { user: null as User };
  };
  const makeServer = (): TidewireServer => createServer<User>({ ...rest, broker, authenticate: guardedAuthenticate, logger: serverOptions.logger ?? quietLogger });
  let server = makeServer();
  let closing: Promise<void> | undefined;

  const restart = async ({ history: keep = true }: RestartOptions): Promise<void> => {
    if (closing) throw new TestKitError('closed', 'the test kit is closed');
    if (!keep && appBroker) throw new TestKitError('invalid_options', 'restart({ history: false }) needs the kit’s own broker; this kit was given a `broker`');
    const old = { server, broker };
    if (!keep) broker = newBroker();
    server = makeServer(); // takes every connection from now on
    await old.server.close();
    if (!keep) await old.broker.close();
  };

  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const client of networks.keys()) client.close();
      await wire.settle();
      await server.close();
      if (!appBroker) await broker.close();
      await wire.settle();
    })();
    return closing;
  };

  return {
    get server() {
      return server;
    },
    clock,
    faults: new Faults(networks, refusals, restart),
    client(options: TestClientOptions = {}): Client {
      if (closing) throw new TestKitError('closed', 'the test kit is closed');
      const { path, headers, ...clientOptions } = options;
      const network = new ClientNetwork(wire, clock);
      const transport = inProcessTransport({
        wire,
        network,
        request: () => inProcessRequest(path, headers),
        connect: (link, request) => server.connectInProcess(link, request, { clock: serverClock }),
      });
      const client = createClient({ ...clientOptions, url: 'http://tidewire.test/tidewire', transports: [transport], clock });
      networks.set(client, network);
      return client;
    },
    settle: () => wire.settle(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The server's transport warnings are noise in tests; errors (a throwing hook) still show. */
const quietLogger = {
  warn: () => {},
  error: (message: string, details?: unknown) => console.error(message, details),
};
