import type { TidewireChannel, TidewireClient } from './client-surface';
import type { TidewireError } from './errors';
import { reporterFor } from './isolate';
import type { PresenceMember, PresenceSnapshot } from './presence';
import { Store } from './store';

/** What a PresenceView (the bindings' model of one `usePresence`) takes. */
export interface PresenceViewOptions {
  /** `null` watches nothing (e.g. while a room is not chosen yet). */
  channel: string | null;
  /** Also appear as a member while watched (with `info`). Default false: only read members. */
  enter?: boolean;
  /** What the other members see as `member.info` when entering (any JSON). A new value re-enters with it. */
  info?: unknown;
  /** `false` holds nothing. Default true. */
  enabled?: boolean;
}

/** What a PresenceView renders: `channel`, `status` (`idle` while not watched), `members`, and `error` when refused. */
export interface PresenceViewSnapshot {
  readonly channel: string | null;
  readonly status: 'idle' | PresenceSnapshot['state'];
  /** Each member once: `{ clientId, user, info? }`. */
  readonly members: readonly PresenceMember[];
  /** Why watching or entering was refused (`forbidden`, `unsupported`…). */
  readonly error: TidewireError | undefined;
}

const IDLE: PresenceViewSnapshot = Object.freeze({ channel: null, status: 'idle', members: Object.freeze([]), error: undefined });

/**
 * A channel's presence as a framework binding wants it: one immutable snapshot behind
 * `subscribe/getSnapshot`. It holds the channel (and enters, if asked) only while it has
 * listeners, so a server render (no listeners) opens nothing, and StrictMode's
 * subscribe/unsubscribe/subscribe reuses one channel thanks to the core's one-tick release.
 */
export class PresenceView extends Store<PresenceViewSnapshot> {
  #options: PresenceViewOptions;
  #handle: TidewireChannel | undefined;
  #detach: (() => void) | undefined;
  /**
   * The JSON of the info last entered with: what a new `info` is compared with. Not the previous
   * options' object — an app may mutate that object in place (a Vue `reactive()`), and it would
   * compare equal to itself.
   */
  #entered: string | undefined;

  constructor(
    private readonly client: TidewireClient,
    options: PresenceViewOptions,
  ) {
    super(IDLE, reporterFor(client));
    this.#options = options;
  }

  /** The snapshot to render on the server and during hydration. */
  getServerSnapshot = (): PresenceViewSnapshot => IDLE;

  protected override onFirstListener(): void {
    this.#attach();
  }

  protected override onLastListenerGone(): void {
    this.#release();
  }

  /** Apply new options: another channel, `enabled` or `enter` re-attaches; new `info` enters again with it. */
  setOptions(options: PresenceViewOptions): void {
    const previous = this.#options;
    this.#options = options;
    if (this.listenerCount === 0) return;
    const switched = previous.channel !== options.channel || (previous.enabled ?? true) !== (options.enabled ?? true) || !!previous.enter !== !!options.enter;
    if (switched) {
      this.#release();
      this.#attach();
    } else if (options.enter && jsonOf(options.info) !== this.#entered) {
      this.#enter();
    }
  }

  #attach(): void {
    const { channel, enabled = true } = this.#options;
    if (channel === null || !enabled) return;
    const handle = (this.#handle = this.client.channel(channel));
    const presence = handle.presence;
    const sync = (): void => {
      const { state, members, error } = presence.getSnapshot();
      const current = this.getSnapshot();
      if (current.status !== state || current.members !== members || (error && current.error !== error)) {
        this.setSnapshot({ channel, status: state, members, error: error ?? current.error });
      }
    };
    this.#detach = presence.subscribe(sync);
    this.setSnapshot({ ...IDLE, channel });
    sync();
    if (this.#options.enter) this.#enter();
  }

  #enter(): void {
    const handle = this.#handle;
    this.#entered = jsonOf(this.#options.info);
    handle?.presence.enter(this.#options.info).catch((error: TidewireError) => {
      if (this.#handle === handle) this.setSnapshot({ ...this.getSnapshot(), error });
    });
  }

  #release(): void {
    this.#detach?.();
    this.#detach = undefined;
    this.#handle?.unsubscribe(); // also leaves and stops watching for this handle
    this.#handle = undefined;
    this.setSnapshot(IDLE);
  }
}

/** `info`'s JSON, to tell a new info from the one entered with; undefined for none it has (a BigInt, a cycle: `enter` rejects those itself). */
function jsonOf(info: unknown): string | undefined {
  try {
    return JSON.stringify(info);
  } catch {
    return undefined;
  }
}
