import type { Channel } from './channel';
import type { Client } from './client';
import type { TidewireError } from './errors';
import type { LeaderMessage, WireError } from './shared-messages';
import { toWire } from './shared-messages';

interface Relay {
  /** The handle whose presence listeners relay the member list to every tab. */
  watcher?: { readonly handle: Channel; readonly stop: () => void };
  readonly watchers: Set<string>;
  /** One handle per entered tab: the client's presence store counts them, so the connection is one member until the last tab leaves. */
  readonly entered: Map<string, Channel>;
}

/**
 * Presence of the shared connection, per channel: the members are the connection's (one client
 * id for all the tabs). While any tab watches, one handle's presence listeners relay snapshots
 * and join/leave events to every tab; each entered tab holds its own handle, so the connection
 * stays a member until the last tab leaves (the private client's own reference counting).
 */
export class LeaderPresence {
  readonly #client: Client;
  readonly #out: (message: LeaderMessage) => void;
  readonly #relays = new Map<string, Relay>();

  constructor(client: Client, out: (message: LeaderMessage) => void) {
    this.#client = client;
    this.#out = out;
  }

  watch(channel: string, tab: string, on: boolean): void {
    const relay = this.#relay(channel);
    if (on) relay.watchers.add(tab);
    else relay.watchers.delete(tab);
    if (relay.watchers.size > 0 && !relay.watcher) {
      const handle = this.#client.channel(channel);
      const presence = handle.presence;
      const send = (): void => {
        const { state, members, error } = presence.getSnapshot();
        this.#out({ t: 'presence', channel, presence: { state, members, ...(error && { error: toWire(error) }) } });
      };
      const offs = [
        presence.subscribe(send),
        presence.on('join', (member) => this.#out({ t: 'pevent', channel, event: 'join', member })),
        presence.on('leave', (member) => this.#out({ t: 'pevent', channel, event: 'leave', member })),
      ];
      relay.watcher = { handle, stop: () => offs.forEach((off) => off()) };
      send();
    } else if (on && relay.watcher) {
      // A tab that starts watching needs the list now, not at the next change.
      const { state, members, error } = relay.watcher.handle.presence.getSnapshot();
      this.#out({ t: 'presence', channel, presence: { state, members, ...(error && { error: toWire(error) }) } });
    } else if (relay.watchers.size === 0 && relay.watcher) {
      relay.watcher.stop();
      relay.watcher.handle.unsubscribe();
      relay.watcher = undefined;
    }
    this.#drop(channel, relay);
  }

  /** @returns resolves once the server confirmed, or rejects with its refusal (as a wire error). */
  enter(channel: string, tab: string, info: unknown): Promise<WireError | undefined> {
    const relay = this.#relay(channel);
    let handle = relay.entered.get(tab);
    if (!handle) relay.entered.set(tab, (handle = this.#client.channel(channel)));
    return handle.presence.enter(info).then(
      () => undefined,
      (error: TidewireError) => toWire(error),
    );
  }

  leave(channel: string, tab: string): void {
    const relay = this.#relays.get(channel);
    const handle = relay?.entered.get(tab);
    if (!relay || !handle) return;
    relay.entered.delete(tab);
    handle.unsubscribe(); // leaves when it was the last entered handle
    this.#drop(channel, relay);
  }

  /** The server ended the connection's membership (`left`): the entered handles go, sending nothing (the client forgot it). */
  ended(channel: string): void {
    const relay = this.#relays.get(channel);
    if (!relay) return;
    for (const tab of [...relay.entered.keys()]) this.leave(channel, tab);
  }

  /** The tab released the channel or went away. */
  forget(channel: string, tab: string): void {
    this.leave(channel, tab);
    if (this.#relays.get(channel)?.watchers.has(tab)) this.watch(channel, tab, false);
  }

  forgetTab(tab: string): void {
    for (const channel of [...this.#relays.keys()]) this.forget(channel, tab);
  }

  #relay(channel: string): Relay {
    let relay = this.#relays.get(channel);
    if (!relay) this.#relays.set(channel, (relay = { watchers: new Set(), entered: new Map() }));
    return relay;
  }

  #drop(channel: string, relay: Relay): void {
    if (relay.watchers.size === 0 && relay.entered.size === 0 && !relay.watcher) this.#relays.delete(channel);
  }
}
