import type { Broker, createServer } from '@tidewire/server';

type ServerOptions = NonNullable<Parameters<typeof createServer>[0]>;

/** Makes the broker for one test server, from the history/dedupe options the test gave the server. */
export type TestBrokerFactory = (options: Pick<ServerOptions, 'history' | 'dedupe'>) => Broker;

let factory: TestBrokerFactory | undefined;
const created: Broker[] = [];

/**
 * Run the suites that build their servers through `withTestBroker` on another
 * broker (e.g. Redis): set it before importing the suite.
 */
export function useTestBroker(make: TestBrokerFactory): void {
  factory = make;
}

/**
 * Server options with the chosen test broker in place of the default one
 * (`history`/`dedupe` go to the factory: the server rejects them beside `broker`).
 * Unchanged when no factory is set or the test brings its own broker.
 */
export function withTestBroker(options: ServerOptions = {}): ServerOptions {
  if (!factory || options.broker) return options;
  const { history, dedupe, ...rest } = options;
  const broker = factory({ history, dedupe });
  created.push(broker);
  return { ...rest, broker };
}

/** The server does not close a broker it was given: close every one made here. */
export async function closeTestBrokers(): Promise<void> {
  await Promise.all(created.splice(0).map((broker) => broker.close()));
}
