import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { ServerMetrics } from './metrics';

/** The part of a server this entry reads: anything with `metrics()` (a `TidewireServer`). */
export interface MetricsSource {
  metrics(): ServerMetrics;
}

/** Options of {@link prometheusEndpoint}. */
export interface PrometheusOptions {
  /** Register into this prom-client registry (e.g. prom-client's global `register`, next to your own metrics). Default: a new one. */
  readonly registry?: Registry;
  /** Prefix of every metric name. Default `'tidewire_'`. */
  readonly prefix?: string;
}

/** What {@link prometheusEndpoint} resolves with. */
export interface PrometheusEndpoint {
  /** The registry the Tidewire metrics live in. */
  readonly registry: Registry;
  /** An HTTP handler answering the Prometheus text format (mount it on e.g. `/metrics`). */
  handler(request: IncomingMessage, response: ServerResponse): void;
}

/**
 * An opt-in Prometheus endpoint for `server.metrics()`, built on `prom-client` (an optional peer
 * dependency: install it next to `@tidewire/server`). It is imported only when this function runs,
 * so a server that never asks for Prometheus never loads it. Values are read from the server at
 * each scrape; counters are `_total` counters, current counts are gauges.
 *
 * Metrics (with the default prefix): `tidewire_sessions{transport}`, `tidewire_channels`,
 * `tidewire_frames_in_total`, `tidewire_frames_out_total`, `tidewire_bytes_in_total`,
 * `tidewire_bytes_out_total`, `tidewire_publishes_total`, `tidewire_refused_total{code}`,
 * `tidewire_closes_total{code}`, `tidewire_recoveries_total{outcome="recovered"|"gap"}`,
 * `tidewire_broker_publish_seconds_sum` / `_count` (counters) and `tidewire_broker_publish_seconds_max` (gauge).
 *
 * @param server the Tidewire server (anything with `metrics()`)
 * @param options `registry` (default: a new one), `prefix` (default `'tidewire_'`)
 * @returns `{ registry, handler }`
 * @throws Error when `prom-client` is not installed (the import fails; install `prom-client`)
 * @example
 * ```ts
 * import { prometheusEndpoint } from '@tidewire/server/prometheus';
 * const { handler } = await prometheusEndpoint(server);
 * http.createServer((req, res) => (req.url === '/metrics' ? handler(req, res) : res.writeHead(404).end())).listen(9464);
 * ```
 */
export async function prometheusEndpoint(server: MetricsSource, options: PrometheusOptions = {}): Promise<PrometheusEndpoint> {
  const prom = await import('prom-client');
  // prom-client is CommonJS: under ESM its classes may sit on `default` only.
  const { Counter, Gauge, Registry: RegistryClass } = ('Counter' in prom ? prom : (prom as { default: typeof prom }).default) as typeof prom;
  const registry = options.registry ?? new RegistryClass();
  const p = options.prefix ?? 'tidewire_';
  const registers = [registry];
  // Each metric reads a fresh snapshot at scrape time (cheap: counters are fields, sessions one loop).
  const read = (): ServerMetrics => server.metrics();

  const counter = (name: string, help: string, value: (m: ServerMetrics) => number): void =>
    void new Counter({
      name: p + name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(value(read()));
      },
    });
  const labelledCounter = (name: string, help: string, label: string, values: (m: ServerMetrics) => Record<string, number | undefined>): void =>
    void new Counter({
      name: p + name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [key, n] of Object.entries(values(read()))) if (n) this.inc({ [label]: key }, n);
      },
    });

  new Gauge({
    name: p + 'sessions',
    help: 'Open sessions by transport',
    labelNames: ['transport'],
    registers,
    collect() {
      for (const [transport, n] of Object.entries(read().sessions)) this.set({ transport }, n);
    },
  });
  new Gauge({
    name: p + 'channels',
    help: 'Channels the broker holds',
    registers,
    collect() {
      this.set(read().channels);
    },
  });
  counter('frames_in_total', 'Frames received from clients', (m) => m.framesIn);
  counter('frames_out_total', 'Frames sent to clients', (m) => m.framesOut);
  counter('bytes_in_total', 'Characters of frames received from clients', (m) => m.bytesIn);
  counter('bytes_out_total', 'Characters of frames sent to clients', (m) => m.bytesOut);
  counter('publishes_total', 'Publishes stored by the broker', (m) => m.publishes);
  labelledCounter('refused_total', 'Requests refused with an error frame, by code', 'code', (m) => m.refused);
  labelledCounter('closes_total', 'Sessions closed by the server, by close code', 'code', (m) => m.closes);
  labelledCounter('recoveries_total', 'Resubscribes from a position, by outcome', 'outcome', (m) => ({ recovered: m.recoveries.recovered, gap: m.recoveries.gaps }));
  counter('broker_publish_seconds_sum', 'Total time spent in broker publishes (s)', (m) => m.brokerLatency.sumMs / 1000);
  counter('broker_publish_seconds_count', 'Broker publishes timed', (m) => m.brokerLatency.count);
  new Gauge({
    name: p + 'broker_publish_seconds_max',
    help: 'Slowest broker publish since start (s)',
    registers,
    collect() {
      this.set(read().brokerLatency.maxMs / 1000);
    },
  });

  return {
    registry,
    handler(_request, response) {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
      );
    },
  };
}
