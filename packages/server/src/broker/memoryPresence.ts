import type { PresenceMember } from '@tidewire/core/protocol';
import type { PresenceEvent, PresenceListener, PresenceWatch } from './broker';
import { swallow } from '../appCall';

/** One channel's members (by clientId) and the watchers told about changes. */
interface Room {
  readonly members: Map<string, PresenceMember>;
  readonly watchers: Set<{ readonly listener: PresenceListener }>;
}

/**
 * Presence for a single process: per channel, the members and the watchers. Everything happens
 * synchronously inside each call, so `watch` (read members + register) is atomic with respect to
 * `enter`/`leave` (change + notify) — a watcher sees every change after its snapshot, none before.
 * A room without members and watchers is dropped, so memory follows who is present.
 */
export class MemoryPresence {
  readonly #rooms = new Map<string, Room>();

  /** Number of channels with members or watchers. */
  get size(): number {
    return this.#rooms.size;
  }

  /** Add or replace `member`; watchers hear `join` unless it is already listed exactly so (as on Redis). */
  enter(channel: string, member: PresenceMember): void {
    const room = this.#room(channel);
    const listed = room.members.get(member.clientId);
    room.members.set(member.clientId, member);
    if (listed && JSON.stringify(listed) === JSON.stringify(member)) return;
    this.#notify(room, { action: 'join', member });
  }

  leave(channel: string, clientId: string): void {
    const room = this.#rooms.get(channel);
    const member = room?.members.get(clientId);
    if (!room || !member) return;
    room.members.delete(clientId);
    this.#notify(room, { action: 'leave', member });
    this.#dropIfEmpty(channel, room);
  }

  watch(channel: string, listener: PresenceListener): PresenceWatch {
    const room = this.#room(channel);
    // Its own object, so the same function watching twice is two entries, each removed by its own unsubscribe.
    const watcher = { listener };
    room.watchers.add(watcher);
    return {
      members: [...room.members.values()],
      unsubscribe: () => {
        room.watchers.delete(watcher);
        this.#dropIfEmpty(channel, room);
      },
    };
  }

  clear(): void {
    this.#rooms.clear();
  }

  #notify(room: Room, event: PresenceEvent): void {
    for (const { listener } of room.watchers) {
      // One broken watcher (a throw, or an async one's rejection) must not stop the others.
      swallow(() => listener(event));
    }
  }

  #room(channel: string): Room {
    let room = this.#rooms.get(channel);
    if (!room) {
      room = { members: new Map(), watchers: new Set() };
      this.#rooms.set(channel, room);
    }
    return room;
  }

  #dropIfEmpty(channel: string, room: Room): void {
    if (room.members.size === 0 && room.watchers.size === 0 && this.#rooms.get(channel) === room) this.#rooms.delete(channel);
  }
}
