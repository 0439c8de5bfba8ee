import type { TransportReason } from './connection-state';
import type { ReportError } from './isolate';
import { Store } from './store';
import type { TransportName } from './transport';

/**
 * What `client.getMetrics()` and `client.metrics.getSnapshot()` return. Counters count since the
 * client was created and never go down. Sizes are characters of frame text (≈ bytes: frames are JSON).
 */
export interface ClientMetrics {
  /**
   * Round-trip time in ms of the last line check: the client's `ping` to the server's `pong`.
   * Line checks run on `online`, `visibilitychange` to visible, `pageshow`, and whenever the app
   * calls `client.checkConnection()` (a dashboard may call it on its own schedule); no timer runs
   * for it otherwise. `undefined` until the first check was answered.
   */
  readonly rtt: number | undefined;
  /** Times a live or opening line was lost and the client went `reconnecting`. */
  readonly reconnects: number;
  /** The same, by the error code that ended the line (`transport_error`, `heartbeat_timeout`, `slow_consumer`…). */
  readonly reconnectReasons: Readonly<Record<string, number>>;
  /** Resubscribes from a position that the server bridged from history (nothing missed). */
  readonly recovered: number;
  /** Resubscribes that could not be bridged: each is a `gap` event on the channel. */
  readonly gaps: number;
  /** Outbox depth: publishes not yet acknowledged (queued while offline, or sent and awaiting the ack). */
  readonly queued: number;
  /** Frames received from and sent to the server, and their characters. */
  readonly framesIn: number;
  readonly bytesIn: number;
  readonly framesOut: number;
  readonly bytesOut: number;
  /** The transport in use or being opened (`undefined` while idle, closed or failed). */
  readonly transport: TransportName | undefined;
  /** Why that transport was chosen: `preferred`, `fallback`, `remembered` or `upgraded` (while connecting or connected). */
  readonly transportReason: TransportReason | undefined;
}

/** The figures `MetricsStore` reads from its owner when a snapshot is built. */
export type MetricsSource = () => Pick<ClientMetrics, 'queued' | 'transport' | 'transportReason'>;

/** The counters the connection and client bump in place (plain fields: no allocation on the hot path). */
export type MetricsCounters = { -readonly [K in Exclude<keyof ClientMetrics, keyof ReturnType<MetricsSource> | 'reconnectReasons'>]: ClientMetrics[K] } & {
  /** Made on the first reconnect. */
  reconnectReasons?: Record<string, number>;
};

/** A reconnect, counted with its reason (the code of the error that ended the line). */
export function countReconnect(counts: MetricsCounters, code: string): void {
  counts.reconnects++;
  const reasons = (counts.reconnectReasons ??= {});
  reasons[code] = (reasons[code] ?? 0) + 1;
}

/** Fresh counters, all zero. */
export const newCounters = (): MetricsCounters => ({ rtt: undefined, reconnects: 0, recovered: 0, gaps: 0, framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0 });

/**
 * A subscribable snapshot of counters kept elsewhere (the connection bumps them in place), built
 * lazily: `getSnapshot()` returns the same object until a figure changed. Listeners are told once
 * per burst of changes (one microtask), and only while there are any. Created on first use, so an
 * idle client that nobody asks for metrics holds only the counters.
 */
export class MetricsStore extends Store<ClientMetrics> {
  #notifying = false;
  readonly #counts: MetricsCounters;
  readonly #source: MetricsSource;
  #last: ClientMetrics | undefined;

  /** @param report where a throwing listener's `listener_error` goes (the client's `error` event). */
  constructor(counts: MetricsCounters, source: MetricsSource, report?: ReportError) {
    super(undefined as unknown as ClientMetrics, report);
    this.#counts = counts;
    this.#source = source;
  }

  /** The figures now: the same object until one changed (compared field by field rather than versioned, so the hot path only bumps counters). */
  override read_(): ClientMetrics {
    const counts = this.#counts;
    const last = this.#last;
    const next: ClientMetrics = { ...counts, reconnectReasons: last?.reconnects === counts.reconnects ? last.reconnectReasons : { ...counts.reconnectReasons }, ...this.#source() };
    for (const key in next) if (next[key as keyof ClientMetrics] !== last?.[key as keyof ClientMetrics]) return (this.#last = next);
    return last!;
  }

  /** Something changed: tell the listeners once this burst is over (nothing to do without listeners). */
  changed_(): void {
    if (this.#notifying || !this.listenerCount) return;
    this.#notifying = true;
    queueMicrotask(() => {
      this.#notifying = false;
      this.setSnapshot(this.read_());
    });
  }
}
