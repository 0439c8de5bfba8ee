import type { EnterFrame, PresenceChangeFrame, PresenceMember, PresenceSubscribeFrame, ServerFrame } from '@tidewire/core/protocol';
import type { Broker, PresenceEvent, PresenceWatch } from './broker/broker';
import type { Logger } from './hooks';
import { DEFAULT_MAX_DEPTH, jsonTextOf, storedCopy } from './jsonValue';

/** What a session's presence needs from the session. */
export interface PresenceHost {
  /** A broker with the presence methods (capability `presence`). */
  readonly broker: Broker;
  readonly logger: Logger;
  /** The session id: the member's `clientId`. */
  readonly clientId: string;
  /** The session's current user (from `authenticate`, updated by a refresh). */
  user(): unknown;
  send(frame: ServerFrame): void;
  /** The session is over: nothing more is sent, and memberships must not outlive it. */
  closed(): boolean;
  /** Most channels a session may watch, and (separately) be a member of: the server's `maxSubscriptions`. */
  readonly max: number;
  /** The server's `limits.maxDepth` (default 64): the member's `user` may nest one level less, as publish data. */
  readonly maxDepth?: number;
  /** Refuse a request (an `error` frame with its id). */
  refuse(id: string, message: string): void;
}

/** One `presence_subscribe`; `pending` holds changes until the snapshot has been sent. */
interface Watching {
  watch: PresenceWatch | undefined;
  pending: PresenceEvent[] | undefined;
}

/**
 * A session's presence (protocol §14): the channels whose members it watches and the channels it
 * is a member of, keyed by channel name in Maps. The snapshot goes out before any change and every
 * change after it follows in order; when the session ends, its memberships end with it (watchers
 * see `leave`), however it ended. Authorization happens before these calls (the session's gate).
 */
export class SessionPresence {
  readonly #watching = new Map<string, Watching>();
  readonly #entered = new Set<string>();

  constructor(private readonly host: PresenceHost) {}

  /** Start (or restart: a fresh snapshot) sending `channel`'s members. Throws only when the broker does. */
  async watch({ id, channel }: PresenceSubscribeFrame): Promise<void> {
    if (!this.#watching.has(channel) && this.#watching.size >= this.host.max) {
      return this.host.refuse(id, `a session may watch the presence of at most ${this.host.max} channels (maxSubscriptions)`);
    }
    this.#watching.get(channel)?.watch?.unsubscribe();
    const entry: Watching = { watch: undefined, pending: [] };
    this.#watching.set(channel, entry);
    let watch: PresenceWatch;
    try {
      watch = await this.host.broker.watchPresence!(channel, (event) => this.#onChange(channel, entry, event));
    } catch (e) {
      if (this.#watching.get(channel) === entry) this.#watching.delete(channel);
      throw e;
    }
    if (this.#watching.get(channel) !== entry || this.host.closed()) {
      watch.unsubscribe(); // superseded, or the session ended while the broker was busy
      return;
    }
    entry.watch = watch;
    this.host.send({ type: 'presence_snapshot', id, channel, members: watch.members });
    for (const event of entry.pending ?? []) this.#sendChange(channel, event);
    entry.pending = undefined;
  }

  /** The channels whose members are watched, and those the session is a member of. */
  held(): { watched: string[]; entered: string[] } {
    return { watched: [...this.#watching.keys()], entered: [...this.#entered] };
  }

  unwatch(channel: string): void {
    this.#watching.get(channel)?.watch?.unsubscribe();
    this.#watching.delete(channel);
  }

  /**
   * Become (or stay, with new `info`) a member of `channel`; answers `entered`.
   * @throws what the broker throws; TidewireServerError `invalid_data` when the session's `user` (what
   *   `authenticate` returned) is not JSON — every watcher would get a member without `user` — so the
   *   session answers `server_error` and logs it, and nothing reaches the broker
   */
  async enter({ id, channel, info }: EnterFrame): Promise<void> {
    const { broker, clientId } = this.host;
    if (!this.#entered.has(channel) && this.#entered.size >= this.host.max) {
      return this.host.refuse(id, `a session may be a member of at most ${this.host.max} channels (maxSubscriptions)`);
    }
    const user = this.host.user() ?? null;
    // Checked here, not at connect: a user that is not JSON is fine until it has to travel. `info` came from the client as JSON.
    const text = jsonTextOf(user, (this.host.maxDepth ?? DEFAULT_MAX_DEPTH) - 1, 'the user authenticate() returned (a presence member carries it)');
    // The member keeps its own copy: the app may go on changing the object authenticate() returned.
    const member: PresenceMember = { clientId, user: storedCopy(user, text), ...(info !== undefined && { info }) };
    await broker.enterPresence!(channel, member);
    // Ended while the broker was busy: clear() has already run, so this membership must go now.
    if (this.host.closed()) return this.#leaveInBroker(channel);
    this.#entered.add(channel);
    this.host.send({ type: 'entered', id, channel });
  }

  leave(channel: string): void {
    if (!this.#entered.delete(channel)) return;
    this.#leaveInBroker(channel);
  }

  /** The session ended: stop every watch and end every membership. */
  clear(): void {
    for (const entry of this.#watching.values()) entry.watch?.unsubscribe();
    this.#watching.clear();
    for (const channel of this.#entered) this.#leaveInBroker(channel);
    this.#entered.clear();
  }

  #onChange(channel: string, entry: Watching, event: PresenceEvent): void {
    if (this.#watching.get(channel) !== entry) return;
    if (entry.pending) entry.pending.push(event);
    else this.#sendChange(channel, event);
  }

  #sendChange(channel: string, { action, member }: PresenceEvent): void {
    const frame: PresenceChangeFrame = { type: 'presence_change', channel, action, member };
    this.host.send(frame);
  }

  #leaveInBroker(channel: string): void {
    this.host.broker.leavePresence!(channel, this.host.clientId).catch((e: unknown) =>
      this.host.logger.error(`tidewire: could not remove a presence member of "${channel}"`, e),
    );
  }
}
