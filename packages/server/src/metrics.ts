import type { CloseCode, ErrorCode } from '@tidewire/core/protocol';

/** The transport a session arrived on; `in_process` for `connectInProcess` (e.g. `@tidewire/testing`). */
export type SessionTransport = 'websocket' | 'sse' | 'longpoll' | 'in_process';

/** Broker publish latency since the server started, in milliseconds. */
export interface BrokerLatency {
  /** Broker publishes timed: every stored publish, from clients and from the server. */
  readonly count: number;
  /** Sum of their durations (ms): `sumMs / count` is the mean. */
  readonly sumMs: number;
  /** The slowest one (ms). */
  readonly maxMs: number;
  /**
   * Cumulative histogram: `buckets[i]` publishes took ≤ `BROKER_LATENCY_BUCKETS_MS[i]` ms
   * (the Prometheus convention; `count` is the `+Inf` bucket).
   */
  readonly buckets: readonly number[];
}

/**
 * What `server.metrics()` returns: a point-in-time snapshot. Counters count since the server
 * was created and never go down; `sessions` and `channels` are current. Frames and bytes
 * are counted per session, so a fan-out of one message to 1,000 subscribers is 1,000 `framesOut`.
 */
export interface ServerMetrics {
  /** Open sessions by the transport they arrived on. */
  readonly sessions: Readonly<Record<SessionTransport, number>>;
  /** Channels the broker currently holds. */
  readonly channels: number;
  /** Frames received from clients (every frame, pings included) and their characters. */
  readonly framesIn: number;
  readonly bytesIn: number;
  /** Frames sent to clients (messages, acks, replays, pings…) and their characters. */
  readonly framesOut: number;
  readonly bytesOut: number;
  /** Publishes stored (client and server publishes, deduplicated retries included). */
  readonly publishes: number;
  /**
   * Requests refused with an `error` frame, by code (publish, subscribe, rpc and refresh
   * requests: `rate_limited`, `too_large`, `forbidden`, `unknown_channel`, `bad_request`, …).
   */
  readonly refused: Readonly<Partial<Record<ErrorCode, number>>>;
  /** Sessions the server closed, by close code (`slow_consumer`, `heartbeat_timeout`, `rate_limited`, …). */
  readonly closes: Readonly<Partial<Record<CloseCode, number>>>;
  /** Sessions closed because the client could not keep up (`closes.slow_consumer`, for convenience). */
  readonly slowConsumerCloses: number;
  /** Resubscribes from a position: `recovered` ones were bridged from history, `gaps` were not. */
  readonly recoveries: { readonly recovered: number; readonly gaps: number };
  /** How long `broker.publish` took. */
  readonly brokerLatency: BrokerLatency;
}

/** Upper bounds (ms) of the broker latency histogram buckets. */
export const BROKER_LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.5, 1, 5, 10, 50, 100, 500, 1000];

/**
 * The server's counters: plain number fields, bumped in place on the hot path (no allocation,
 * no map lookup per frame); the snapshot is built only when `server.metrics()` asks.
 */
export class ServerCounters {
  framesIn = 0;
  bytesIn = 0;
  framesOut = 0;
  bytesOut = 0;
  publishes = 0;
  recovered = 0;
  gaps = 0;
  readonly refused: Partial<Record<ErrorCode, number>> = {};
  readonly closes: Partial<Record<CloseCode, number>> = {};
  readonly #latency = { count: 0, sumMs: 0, maxMs: 0, buckets: BROKER_LATENCY_BUCKETS_MS.map(() => 0) };

  refuse(code: ErrorCode): void {
    this.refused[code] = (this.refused[code] ?? 0) + 1;
  }

  close(code: CloseCode): void {
    this.closes[code] = (this.closes[code] ?? 0) + 1;
  }

  /**
   * Count a broker publish that started at `startedAt` (a `performance.now()` reading) and was
   * stored just now. Called inline after the `await` rather than wrapping the call, so timing
   * costs two clock reads and no extra promise or closure per publish.
   * @param startedAt `performance.now()` taken right before `broker.publish`
   */
  published(startedAt: number): void {
    this.publishes++;
    this.#observe(performance.now() - startedAt);
  }

  #observe(ms: number): void {
    const l = this.#latency;
    l.count++;
    l.sumMs += ms;
    if (ms > l.maxMs) l.maxMs = ms;
    for (let i = 0; i < BROKER_LATENCY_BUCKETS_MS.length; i++) if (ms <= BROKER_LATENCY_BUCKETS_MS[i]!) l.buckets[i]!++;
  }

  /**
   * Build the snapshot.
   * @param transports the transport of every open session
   * @param channels channels the broker holds
   */
  snapshot(transports: Iterable<SessionTransport>, channels: number): ServerMetrics {
    const sessions: Record<SessionTransport, number> = { websocket: 0, sse: 0, longpoll: 0, in_process: 0 };
    for (const t of transports) sessions[t]++;
    const l = this.#latency;
    return {
      sessions,
      channels,
      framesIn: this.framesIn,
      bytesIn: this.bytesIn,
      framesOut: this.framesOut,
      bytesOut: this.bytesOut,
      publishes: this.publishes,
      refused: { ...this.refused },
      closes: { ...this.closes },
      slowConsumerCloses: this.closes.slow_consumer ?? 0,
      recoveries: { recovered: this.recovered, gaps: this.gaps },
      brokerLatency: { count: l.count, sumMs: l.sumMs, maxMs: l.maxMs, buckets: [...l.buckets] },
    };
  }
}
