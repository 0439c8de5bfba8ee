import type { Channel } from './channel';
import type { ChannelMessage, GapInfo } from './channel-state';
import type { Client, ClientOptions } from './client';
import { createClient } from './client';
import type { ConnectionStateName, TransportReason } from './connection-state';
import type { TidewireError } from './errors';
import type { PublishResult } from './outbox';
import type { Position } from './protocol/frames';

/** What a tab tells the leader (over the BroadcastChannel, or directly in the leader's own tab). */
export type TabMessage =
  | { readonly t: 'hello' }
  /** Subscribe this tab; `since`: the last position it delivered (after a takeover). */
  | { readonly t: 'sub'; readonly tab: string; readonly channel: string; readonly since?: Position }
  | { readonly t: 'unsub'; readonly tab: string; readonly channel: string }
  | { readonly t: 'pub'; readonly id: string; readonly channel: string; readonly data: unknown }
  /** The tab is going away: drop its subscriptions. */
  | { readonly t: 'bye'; readonly tab: string };

/** The connection state as tabs see it (errors travel as code and message). */
export interface SharedState {
  readonly state: ConnectionStateName;
  readonly transport?: string;
  readonly transportReason?: TransportReason;
  readonly error?: { readonly code: string; readonly message: string };
}

/** What the leader tells every tab. */
export type LeaderMessage =
  /** A (new) leader: announce your subscriptions with their positions and re-send pending publishes. */
  | { readonly t: 'leader' }
  | { readonly t: 'state'; readonly state: SharedState }
  | { readonly t: 'msg'; readonly message: ChannelMessage }
  | { readonly t: 'gap'; readonly gap: GapInfo }
  | { readonly t: 'ack'; readonly id: string; readonly result?: PublishResult; readonly error?: { readonly code: string; readonly message: string } };

interface SharedSubscription {
  handle?: Channel;
  readonly tabs: Set<string>;
  /** While collecting after a takeover: the earliest position any tab reported. */
  since?: Position;
}

/**
 * The tab that holds the lock owns the one real connection. Subscriptions are reference-counted
 * by tab; every message is broadcast once to all tabs (each delivers it once, by position). After a
 * takeover it first collects what the tabs know for `collectFor` ms, then subscribes each channel
 * from the earliest position any tab reported, so no tab loses a message (the others drop the
 * replayed ones they already have).
 */
export class SharedLeader {
  readonly #client: Client;
  readonly #subs = new Map<string, SharedSubscription>();
  readonly #out: (message: LeaderMessage) => void;
  #collecting = true;
  #stopped = false;

  constructor(options: ClientOptions, out: (message: LeaderMessage) => void, collectFor: number) {
    this.#out = out;
    const client = (this.#client = createClient(options));
    client.subscribe(() => out({ t: 'state', state: this.#state() }));
    // After the constructor returns: the leader's own tab must already route its answers here.
    queueMicrotask(() => out({ t: 'leader' }));
    setTimeout(() => {
      this.#collecting = false;
      if (this.#stopped) return;
      for (const [name, sub] of this.#subs) this.#open(name, sub);
    }, collectFor);
  }

  handle(message: TabMessage): void {
    if (this.#stopped) return;
    switch (message.t) {
      case 'hello':
        return this.#out({ t: 'state', state: this.#state() });
      case 'sub': {
        let sub = this.#subs.get(message.channel);
        if (!sub) this.#subs.set(message.channel, (sub = { tabs: new Set() }));
        sub.tabs.add(message.tab);
        if (this.#collecting) sub.since = earliest(sub.since, message.since);
        else this.#open(message.channel, sub);
        return;
      }
      case 'unsub':
        return this.#release(message.channel, message.tab);
      case 'bye':
        for (const name of [...this.#subs.keys()]) this.#release(name, message.tab);
        return;
      case 'pub':
        this.#client.publish(message.channel, message.data, { id: message.id }).then(
          (result) => this.#out({ t: 'ack', id: message.id, result }),
          (error: TidewireError) => {
            // Closed with this leader: the tab re-sends it (same id) to the next one.
            if (!this.#stopped) this.#out({ t: 'ack', id: message.id, error: { code: error.code, message: error.message } });
          },
        );
        return;
    }
  }

  /** This tab is leaving or lost the lock: close the connection; the next leader takes over. */
  stop(): void {
    this.#stopped = true;
    this.#client.close();
  }

  #open(name: string, sub: SharedSubscription): void {
    if (sub.handle || sub.tabs.size === 0) return;
    const handle = (sub.handle = this.#client.channel(name, { since: sub.since }));
    handle.on('message', (m) => this.#out({ t: 'msg', message: { channel: m.channel, epoch: m.epoch, offset: m.offset, id: m.id, data: m.data } }));
    handle.on('gap', (gap) => this.#out({ t: 'gap', gap }));
  }

  #release(name: string, tab: string): void {
    const sub = this.#subs.get(name);
    if (!sub?.tabs.delete(tab) || sub.tabs.size > 0) return;
    this.#subs.delete(name);
    sub.handle?.unsubscribe();
  }

  #state(): SharedState {
    const s = this.#client.getSnapshot();
    return {
      state: s.state,
      transport: 'transport' in s ? s.transport : undefined,
      transportReason: 'transportReason' in s ? s.transportReason : undefined,
      error: 'error' in s && s.error ? { code: s.error.code, message: s.error.message } : undefined,
    };
  }
}

/** The earlier of two positions (an unknown one means "from now", so a known one wins). */
function earliest(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (!a || !b) return a ?? b;
  return a.epoch === b.epoch && b.offset < a.offset ? b : a;
}
