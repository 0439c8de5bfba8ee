import type { Channel } from './channel';
import type { ChannelMessage } from './channel-state';
import type { Client, ClientOptions } from './client';
import { createClient } from './client';
import type { TidewireError } from './errors';
import type { HistoryOptions } from './history';
import type { Position } from './protocol/frames';
import { LeaderPresence } from './shared-leader-presence';
import type { LeaderMessage, TabMessage, WireChannelState } from './shared-messages';
import { fromWire, toWire, wireState } from './shared-messages';

export type { LeaderMessage, SharedState, TabMessage } from './shared-messages';

interface SharedSubscription {
  handle?: Channel;
  readonly tabs: Set<string>;
  /** While collecting after a takeover: the earliest position any tab reported. */
  since?: Position;
  /** Tabs waiting for stored messages until the subscription is live — their `recent` ones, or a catch-up after a known position. */
  readonly recent: Map<string, { readonly options: HistoryOptions; readonly epoch?: string }>;
}

/**
 * The one real connection, in the leader tab or in the SharedWorker. Subscriptions are
 * reference-counted by tab; every message is broadcast once to all tabs (each delivers it once, by
 * position). After a takeover it first collects what the tabs know for `collectFor` ms, then
 * subscribes each channel from the earliest position any tab reported, so no tab loses a message
 * (the others drop the replayed ones they already have). Presence, history, rpc and the pending
 * publishes (`outboxStorage`) go through this client too, so they are the connection's.
 */
export class SharedLeader {
  readonly #client: Client;
  readonly #subs = new Map<string, SharedSubscription>();
  readonly #presence: LeaderPresence;
  readonly #out: (message: LeaderMessage) => void;
  /** Work that needs a channel handle waits until the takeover's positions are collected (a handle taken earlier would subscribe from now). */
  #afterCollect: (() => void)[] | undefined = [];
  #stopped = false;
  /** The tabs using the connection: known from their `alive`, gone with their `bye` (or their tab lock). */
  readonly #tabs = new Set<string>();

  constructor(options: ClientOptions, out: (message: LeaderMessage) => void, collectFor: number) {
    this.#out = out;
    const client = (this.#client = createClient(options));
    this.#presence = new LeaderPresence(client, out);
    client.on('state', ({ to, reason }) => out({ t: 'state', state: wireState(to), reason }));
    client.on('pending', () => this.#sendPending());
    // What a private client reports on `error` (a publish held back `rate_limited`…) reaches every tab's `on('error')`.
    // A membership the server ended (`left`) is forgotten here and, on that error, by every tab.
    client.on('error', (error) => {
      if (error.context.presence === 'left') this.#presence.ended(String(error.context.channel));
      if (!this.#stopped) out({ t: 'error', error: toWire(error) });
    });
    // After the constructor returns: the leader's own tab must already route its answers here.
    queueMicrotask(() => out({ t: 'leader' }));
    setTimeout(() => {
      const waiting = this.#afterCollect ?? [];
      this.#afterCollect = undefined;
      if (this.#stopped) return;
      for (const [name, sub] of this.#subs) this.#open(name, sub);
      for (const job of waiting) job();
    }, collectFor);
  }

  handle(message: TabMessage): void {
    if (this.#stopped) return;
    switch (message.t) {
      case 'connect':
        return this.#client.connect();
      case 'check':
        return this.#client.checkConnection();
      case 'alive':
        this.#tabs.add(message.tab); // the link watches the tab's lock
        return this.#out({ t: 'tabs', count: this.#tabs.size });
      case 'hello':
        this.#out({ t: 'state', state: wireState(this.#client.getSnapshot()), reason: 'tab joined' });
        return this.#sendPending();
      case 'sub':
        return this.#subscribe(message);
      case 'unsub':
        return this.#release(message.channel, message.tab);
      case 'bye':
        if (this.#tabs.delete(message.tab)) this.#out({ t: 'tabs', count: this.#tabs.size });
        for (const name of [...this.#subs.keys()]) this.#release(name, message.tab);
        return this.#presence.forgetTab(message.tab);
      case 'pub':
        return this.#answer(message.id, this.#client.publish(message.channel, message.data, { id: message.id }));
      case 'req':
        return this.#answer(message.frame.id, this.#client.request(message.frame, message.rules));
      case 'cancel':
        return this.#client.cancelRequest(message.id, fromWire(message.error, { id: message.id }));
      case 'history':
        return this.#later(() => {
          const handle = this.#client.channel(message.channel);
          const page = handle.history(message.options).then(({ messages, epoch, head, hasMore }) => ({ messages, epoch, head, hasMore }));
          this.#answer(message.id, page);
          void page.finally(() => handle.unsubscribe()).catch(() => {});
        });
      case 'pwatch':
        return this.#later(() => this.#presence.watch(message.channel, message.tab, message.on));
      case 'enter':
        return this.#later(() => {
          void this.#presence.enter(message.channel, message.tab, message.info).then((error) => {
            if (!this.#stopped) this.#out({ t: 'ack', id: message.id, ...(error && { error }) });
          });
        });
      case 'leave':
        return this.#later(() => this.#presence.leave(message.channel, message.tab));
    }
  }

  /** This tab is leaving or lost the lock (or the worker's last tab left): close the connection; the next leader takes over. */
  stop(): void {
    this.#stopped = true;
    this.#client.close();
  }

  #later(job: () => void): void {
    if (this.#afterCollect) this.#afterCollect.push(job);
    else job();
  }

  #answer(id: string, result: Promise<unknown>): void {
    result.then(
      (value) => this.#out({ t: 'ack', id, result: value }),
      (error: TidewireError) => {
        // Closed with this leader: the tab sends it again (same id) to the next one.
        if (!this.#stopped) this.#out({ t: 'ack', id, error: toWire(error) });
      },
    );
  }

  #sendPending(): void {
    if (!this.#stopped) this.#out({ t: 'pending', list: this.#client.listPendingPublishes() });
  }

  #subscribe({ channel: name, tab, since, recent, catchUp }: Extract<TabMessage, { t: 'sub' }>): void {
    let sub = this.#subs.get(name);
    if (!sub) this.#subs.set(name, (sub = { tabs: new Set(), recent: new Map() }));
    sub.tabs.add(tab);
    if (recent !== undefined && since === undefined) sub.recent.set(tab, { options: { limit: recent } });
    // A tab that joins a running subscription with a position (its own `since`, or back from a freeze)
    // gets what followed that position from history, as a private client would from its subscribe;
    // a subscription that starts at the position brings it live (the answer is then empty).
    else if (catchUp && since !== undefined) {
      const running = sub.handle !== undefined && !this.#afterCollect;
      sub.recent.set(tab, { options: running ? { after: since.offset, direction: 'forward', limit: CATCH_UP_LIMIT } : { limit: 0 }, epoch: since.epoch });
    }
    if (this.#afterCollect) sub.since = earliest(sub.since, since);
    else if (sub.handle) this.#sendState(name, sub.handle); // the new tab needs the state now, not at its next change
    else this.#open(name, sub);
    if (sub.handle) this.#answerRecent(name, sub);
  }

  #sendState(name: string, handle: Channel): void {
    this.#out({ t: 'chstate', channel: name, state: wireState(handle.getSnapshot()) as WireChannelState });
  }

  #open(name: string, sub: SharedSubscription): void {
    if (sub.handle || sub.tabs.size === 0) return;
    const handle = (sub.handle = this.#client.channel(name, { since: sub.since }));
    handle.on('message', (m) => this.#out({ t: 'msg', message: { channel: m.channel, epoch: m.epoch, offset: m.offset, id: m.id, data: m.data } }));
    handle.on('gap', (gap) => this.#out({ t: 'gap', gap }));
    handle.subscribe(() => {
      this.#sendState(name, handle);
      this.#answerRecent(name, sub);
    });
    this.#answerRecent(name, sub);
  }

  /**
   * Tabs that asked for `recent` get a history page read once the subscription is live: the page
   * then reaches at least where the live stream starts, so the tab can join the two without a gap
   * (it drops what it already has by offset).
   */
  #answerRecent(name: string, sub: SharedSubscription): void {
    const handle = sub.handle;
    if (!handle || sub.recent.size === 0 || handle.getSnapshot().state !== 'subscribed') return;
    const asked = [...sub.recent];
    sub.recent.clear();
    for (const [tab, { options, epoch }] of asked) {
      // A catch-up also says where the subscription stands, so the tab can tell a hole it cannot fill (a `gap`).
      const send = (messages: readonly ChannelMessage[]): void => {
        if (!this.#stopped) this.#out({ t: 'recent', tab, channel: name, messages, ...(epoch !== undefined && { at: handle.position }) });
      };
      if (options.limit! <= 0) send([]);
      else
        handle.history(options).then(
          // Another epoch: what followed the position is gone; the tab goes on from live after a gap.
          (page) => send(epoch !== undefined && page.epoch !== epoch ? [] : options.direction === 'forward' ? page.messages : [...page.messages].reverse()),
          () => send([]),
        );
    }
  }

  #release(name: string, tab: string): void {
    this.#presence.forget(name, tab);
    const sub = this.#subs.get(name);
    sub?.recent.delete(tab);
    if (!sub?.tabs.delete(tab) || sub.tabs.size > 0) return;
    this.#subs.delete(name);
    sub.handle?.unsubscribe();
  }
}

/** Most stored messages a tab catching up after a known position is sent (a longer absence goes on from there, as after a gap). */
const CATCH_UP_LIMIT = 1000;

/** The earlier of two positions (an unknown one means "from now", so a known one wins). */
function earliest(a: Position | undefined, b: Position | undefined): Position | undefined {
  if (!a || !b) return a ?? b;
  return a.epoch === b.epoch && b.offset < a.offset ? b : a;
}
