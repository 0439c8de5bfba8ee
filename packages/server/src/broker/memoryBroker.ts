import { nanoid } from 'nanoid';
import type { Position } from '@tidewire/core/protocol';
import { systemClock, type Clock, type Timer } from '../clock';
import type { Broker, BrokerMessage, BrokerStats, BrokerSubscription, MessageListener, PublishInput, PublishResult } from './broker';
import type { HistoryQuery, HistoryResult, PresenceListener, PresenceWatch } from './broker';
import type { PresenceMember } from '@tidewire/core/protocol';
import { historyPage } from './historyPage';
import { MemoryPresence } from './memoryPresence';
import { dedupeKey } from './broker';
import { DedupeWindow } from './dedupe';
import { History } from './history';
import { checkMemoryBrokerOptions } from '../options';
import { swallow } from '../appCall';

/** Options of the in-memory broker (history and dedupe per channel); see docs/survival.md for what survives a restart. */
export interface MemoryBrokerOptions {
  /** Per-channel history: at most `size` messages (default 1,000), none older than `ttl` ms (default 5 min), at most `maxBytes` of frame text (default 8 MiB). */
  history?: { size?: number; ttl?: number; maxBytes?: number };
  /** Per-channel publish-id memory: `window` ms, at most `size` ids. */
  dedupe?: { window?: number; size?: number };
  /** How often idle channels are dropped (ms). */
  sweepInterval?: number;
  /** @internal for tests */
  clock?: Clock;
}

interface Channel {
  readonly epoch: string;
  head: number; // offset of the newest message (0 = none yet)
  readonly history: History<BrokerMessage>;
  readonly dedupe: DedupeWindow;
  readonly listeners: Set<Listening>;
  /**
   * Messages stored while this channel's delivery loop runs (a listener that publishes into the
   * channel it listens to: a bot replying in its room), delivered after it in offset order.
   * Undefined when no delivery runs.
   */
  queued: BrokerMessage[] | undefined;
}

/**
 * One subscribe call. Its own object (not the bare listener) so the same
 * function subscribed twice is two entries, each removed by its own unsubscribe.
 */
interface Listening {
  readonly listener: MessageListener;
  /** The channel head at subscribe time: the subscriber's position covers every offset up to here. */
  readonly after: number;
}

/**
 * Single-process broker. Everything happens synchronously inside each call, so
 * subscribe (register listener + read history) is atomic with respect to
 * publish (store + deliver) without any locking.
 */
export class MemoryBroker implements Broker {
  readonly #channels = new Map<string, Channel>();
  /** Members per channel: kept apart from the message channels, which are swept on their own schedule. */
  readonly #presence = new MemoryPresence();
  readonly #historySize: number;
  readonly #historyBytes: number;
  readonly #ttl: number;
  readonly #dedupeWindow: number;
  readonly #dedupeSize: number;
  readonly #clock: Clock;
  #sweepTimer: Timer | undefined;
  readonly #sweepInterval: number;

  /** @throws TidewireServerError `invalid_options` for options createServer would refuse (a misspelt key, a negative size) */
  constructor(options: MemoryBrokerOptions = {}) {
    checkMemoryBrokerOptions(options);
    this.#historySize = options.history?.size ?? 1000;
    this.#historyBytes = options.history?.maxBytes ?? 8 * 1024 * 1024;
    this.#ttl = options.history?.ttl ?? 5 * 60_000;
    this.#dedupeWindow = options.dedupe?.window ?? 2 * 60_000;
    this.#dedupeSize = options.dedupe?.size ?? 10_000;
    this.#clock = options.clock ?? systemClock;
    this.#sweepInterval = options.sweepInterval ?? 30_000;
    this.#scheduleSweep();
  }

  async publish(name: string, message: PublishInput): Promise<PublishResult> {
    const now = this.#clock.now();
    const channel = this.#channel(name);
    if (!message.fresh) {
      const seen = channel.dedupe.get(dedupeKey(message), now);
      if (seen) return { epoch: seen.epoch, offset: seen.offset, duplicate: true };
    }

    const stored: BrokerMessage = { id: message.id, epoch: channel.epoch, offset: ++channel.head, data: message.data };
    channel.history.trimBefore(now - this.#ttl);
    channel.history.push({ offset: stored.offset, at: now, value: stored, bytes: message.bytes ?? 0 });
    if (!message.fresh) channel.dedupe.add(dedupeKey(message), { epoch: stored.epoch, offset: stored.offset, at: now });
    this.#deliver(channel, stored);
    return { epoch: stored.epoch, offset: stored.offset, duplicate: false };
  }

  async subscribe(name: string, since: Position | undefined, listener: MessageListener): Promise<BrokerSubscription> {
    const channel = this.#channel(name);
    channel.history.trimBefore(this.#clock.now() - this.#ttl);
    const position = this.#resume(channel, since);
    // Registered in the same synchronous step as the history read: nothing can fall between.
    const listening: Listening = { listener, after: channel.head };
    channel.listeners.add(listening);
    return { ...position, unsubscribe: () => void channel.listeners.delete(listening) };
  }

  async history(name: string, query: HistoryQuery): Promise<HistoryResult> {
    const channel = this.#channel(name);
    channel.history.trimBefore(this.#clock.now() - this.#ttl);
    return historyPage(channel.epoch, channel.head, channel.history.after(query.after ?? 0), query);
  }

  async enterPresence(channel: string, member: PresenceMember): Promise<void> {
    this.#presence.enter(channel, member);
  }

  async leavePresence(channel: string, clientId: string): Promise<void> {
    this.#presence.leave(channel, clientId);
  }

  async watchPresence(channel: string, listener: PresenceListener): Promise<PresenceWatch> {
    return this.#presence.watch(channel, listener);
  }

  stats(): BrokerStats {
    return { channels: this.#channels.size };
  }

  async close(): Promise<void> {
    this.#clock.clearTimeout(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#channels.clear();
    this.#presence.clear();
  }

  /**
   * Deliver `stored` to every listener, in offset order whatever the listeners do. A nested
   * publish (from inside a listener) must not deliver at once: the listeners after the publishing
   * one would get n+1 before n, and every subscriber drops n as already passed. So while a loop
   * runs, later messages queue and the running loop delivers them when it is done with this one.
   */
  #deliver(channel: Channel, stored: BrokerMessage): void {
    if (channel.queued) {
      channel.queued.push(stored);
      return;
    }
    const queued: BrokerMessage[] = [stored];
    channel.queued = queued;
    try {
      // `queued` grows while we drain it: a listener's publish lands at its end.
      for (let message = queued.shift(); message; message = queued.shift()) {
        // No copy per message: a Set's iteration skips entries deleted meanwhile (a listener may
        // unsubscribe during delivery) and reaches entries added meanwhile, which `after` filters out.
        for (const listening of channel.listeners) {
          // Subscribed after this message was stored: it is already in its position (or replay).
          if (message.offset <= listening.after) continue;
          callListener(listening.listener, message);
        }
      }
    } finally {
      channel.queued = undefined;
    }
  }

  /** Where a (re)subscriber continues, and what it missed. */
  #resume(channel: Channel, since: Position | undefined): Omit<BrokerSubscription, 'unsubscribe'> {
    const head = { epoch: channel.epoch, offset: channel.head, replay: [] };
    // No position: the subscriber starts live; it missed nothing, so nothing to recover.
    if (!since) return { ...head, recovered: true };
    if (since.epoch !== channel.epoch || since.offset > channel.head) return { ...head, recovered: false };
    if (since.offset === channel.head) return { ...head, recovered: true };
    const oldest = channel.history.oldestOffset();
    if (oldest === undefined || oldest > since.offset + 1) return { ...head, recovered: false };
    return { epoch: channel.epoch, offset: since.offset, recovered: true, replay: channel.history.after(since.offset) };
  }

  #channel(name: string): Channel {
    let channel = this.#channels.get(name);
    if (!channel) {
      channel = {
        epoch: nanoid(12), // new channel (or fresh process) = new epoch: old positions cannot match
        head: 0,
        history: new History(this.#historySize, this.#historyBytes),
        dedupe: new DedupeWindow(this.#dedupeWindow, this.#dedupeSize),
        listeners: new Set(),
        queued: undefined,
      };
      this.#channels.set(name, channel);
    }
    return channel;
  }

  /**
   * Drop channels nobody listens to whose history and dedupe memory have
   * expired, so memory stays bounded. Never earlier: a reconnecting client
   * must still be able to recover within the TTL, and a retried publish must
   * still be deduplicated within its window.
   */
  sweep(): void {
    const now = this.#clock.now();
    for (const [name, channel] of this.#channels) {
      if (channel.listeners.size > 0) continue;
      channel.history.trimBefore(now - this.#ttl);
      channel.dedupe.prune(now);
      if (channel.history.length === 0 && channel.dedupe.size === 0) this.#channels.delete(name);
    }
  }

  #scheduleSweep(): void {
    this.#sweepTimer = this.#clock.setTimeout(() => {
      this.sweep();
      this.#scheduleSweep();
    }, this.#sweepInterval);
  }
}

/**
 * One broken subscriber must not stop delivery to the others, nor the process: a sync throw and an
 * async listener's rejection are both dropped here (the broker has no logger; the server's own
 * listeners report their failures themselves).
 */
function callListener(listener: MessageListener, message: BrokerMessage): void {
  swallow(() => listener(message));
}
