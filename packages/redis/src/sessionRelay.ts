import { randomBytes } from 'node:crypto';
import type { RelayedRequest, RelayedRequestHandler, RelayedResponse, SessionRelay } from '@tidewire/server';
import type { RedisConnections } from './connections';
import { RedisBrokerError } from './errors';
import { relayInbox } from './keys';
import type { PubsubChannels } from './pubsubChannels';

/** Options of `broker.sessionRelay()`. */
export interface RedisSessionRelayOptions {
  /**
   * This process's id in session ids (`[A-Za-z0-9_-]+`). Default: 8 random characters, new for
   * every process — a restarted process must not claim the sessions that died with its predecessor.
   */
  nodeId?: string;
}

/** One pub/sub message on a node's inbox: a request for one of its sessions, or the answer to one it relayed. */
type Envelope =
  | { readonly t: 'q'; readonly id: string; readonly from: string; readonly request: RelayedRequest }
  | { readonly t: 'r'; readonly id: string; readonly response: RelayedResponse };

/**
 * The largest envelope (bytes of its JSON) published as it is. A bigger one — a long-poll batch of up
 * to limits.maxBufferedBytes plus its largest frame, a full history page, a POST of up to 4 ×
 * maxPayload — is stored under a short-lived key and only the key's name is published (a handoff).
 * Why: every message to a node lands in the output buffer of that node's ONE pub/sub connection,
 * which also carries all its channel notifications and presence; Redis disconnects a pub/sub client
 * whose buffer passes `client-output-buffer-limit pubsub` (32 MB hard, 8 MB for 60 s by default), so
 * one large answer would cut every live delivery of the node, and every retry would do it again.
 * A key is read on the ordinary command connection, which has no such limit. 512 KiB stays far below
 * any sane pub/sub limit and keeps the pub/sub path for the common small answers (one round trip less).
 */
const INLINE_BYTES = 512 * 1024;

/**
 * How long (ms) a handed-off body may wait for its reader. The reader fetches it as soon as the
 * pub/sub message arrives and deletes it; the expiry only frees what a reader that died never took.
 */
const HANDOFF_TTL = 60_000;

/** How long `forward` waits for this node's own inbox subscription (it carries the answer) before giving up. */
const SUBSCRIBE_WAIT = 5000;

/**
 * While requests to a node are outstanding, how often (ms) we ask Redis whether that node still
 * listens. A held poll relayed to a node that is then killed would otherwise wait out the whole
 * poll timeout; Redis drops a dead process's subscriptions as soon as its socket closes.
 */
const OWNER_CHECK_INTERVAL = 2000;

/**
 * The Redis side of sticky-free SSE and long polling (docs/scaling.md). Each node listens on one
 * pub/sub channel, `<prefix>:{node:<id>}:inbox` (sharded where the broker uses sharded pub/sub),
 * on the broker's existing pub/sub connection: no new connection. A relayed request is published to
 * the owner's inbox; the owner runs it and publishes the answer to the sender's inbox. `PUBLISH`
 * returns how many processes received it, so a request for a dead node's session is known to be
 * lost at once (404, the client reconnects) instead of after a timeout.
 */
export class RedisSessionRelay implements SessionRelay {
  readonly nodeId: string;
  readonly #redis: RedisConnections;
  readonly #pubsub: PubsubChannels;
  readonly #prefix: string;
  readonly #database: number;
  readonly #pending = new Map<string, (response: RelayedResponse | undefined) => void>();
  /** Per owner node: its outstanding request ids and the timer that checks it is still alive. */
  readonly #watched = new Map<string, { ids: Set<string>; timer: ReturnType<typeof setInterval> }>();
  #handler: RelayedRequestHandler | undefined;
  #subscribed: Promise<void> | undefined;
  #stopped = false;
  #sequence = 0;

  /** Use `broker.sessionRelay()`. */
  constructor(redis: RedisConnections, pubsub: PubsubChannels, prefix: string, database: number, options: RedisSessionRelayOptions = {}) {
    const nodeId = options.nodeId ?? randomBytes(6).toString('base64url');
    if (!/^[A-Za-z0-9_-]+$/.test(nodeId)) throw new RedisBrokerError('invalid_options', `nodeId must match [A-Za-z0-9_-]+, got ${JSON.stringify(nodeId)}`);
    this.nodeId = nodeId;
    this.#redis = redis;
    this.#pubsub = pubsub;
    this.#prefix = prefix;
    this.#database = database;
    this.#subscribed = this.#subscribe();
  }

  serve(handler: RelayedRequestHandler): () => void {
    this.#handler = handler;
    return () => {
      if (this.#handler === handler) this.#handler = undefined;
    };
  }

  async forward(nodeId: string, request: RelayedRequest, timeout: number): Promise<RelayedResponse | undefined> {
    // The answer arrives on our own inbox: it must be listened to before the request leaves.
    const ready = await Promise.race([this.#subscribed?.then(() => true), sleep(SUBSCRIBE_WAIT).then(() => false)]);
    if (!ready) return undefined;
    const id = `${this.nodeId}:${++this.#sequence}`;
    const answered = new Promise<RelayedResponse | undefined>((resolve) => {
      const timer = setTimeout(() => settle(undefined), timeout);
      const settle = (response: RelayedResponse | undefined): void => {
        clearTimeout(timer);
        this.#pending.delete(id);
        this.#unwatch(nodeId, id);
        resolve(response);
      };
      this.#pending.set(id, settle);
      this.#watch(nodeId, id);
    });
    const receivers = await this.#publish(nodeId, { t: 'q', id, from: this.nodeId, request }).catch(() => 0);
    if (receivers === 0) this.#pending.get(id)?.(undefined); // nobody listens: that node is gone
    return answered;
  }

  /** Stop listening; pending forwards resolve undefined. Called by the broker's close(). */
  close(): void {
    this.#stopped = true;
    this.#handler = undefined;
    for (const settle of [...this.#pending.values()]) settle(undefined);
    for (const { timer } of this.#watched.values()) clearInterval(timer);
    this.#watched.clear();
  }

  #watch(nodeId: string, id: string): void {
    let watched = this.#watched.get(nodeId);
    if (!watched) {
      const ids = new Set<string>();
      const timer = setInterval(() => void this.#checkOwner(nodeId, ids), OWNER_CHECK_INTERVAL);
      timer.unref?.();
      watched = { ids, timer };
      this.#watched.set(nodeId, watched);
    }
    watched.ids.add(id);
  }

  #unwatch(nodeId: string, id: string): void {
    const watched = this.#watched.get(nodeId);
    if (!watched) return;
    watched.ids.delete(id);
    if (watched.ids.size === 0) {
      clearInterval(watched.timer);
      this.#watched.delete(nodeId);
    }
  }

  /** The owner no longer listens (killed): its sessions are gone, answer every request to it now. */
  async #checkOwner(nodeId: string, ids: Set<string>): Promise<void> {
    const inbox = this.#inbox(nodeId);
    const reply = await this.#redis.command(['PUBSUB', this.#redis.sharded ? 'SHARDNUMSUB' : 'NUMSUB', inbox], inbox).catch(() => undefined);
    // Reply: [channel, count]. No answer (Redis away) proves nothing: keep waiting.
    if (!Array.isArray(reply) || Number(reply[1]) !== 0) return;
    for (const id of [...ids]) this.#pending.get(id)?.(undefined);
  }

  #inbox(nodeId: string): string {
    return relayInbox(this.#prefix, nodeId, this.#database);
  }

  /** Where a body handed off to `nodeId` is stored: its hash tag is the inbox's, so one Cluster slot holds both. */
  #handoffPrefix(nodeId: string): string {
    return `${this.#prefix}:{node:${nodeId}}:handoff:`;
  }

  async #publish(nodeId: string, envelope: Envelope): Promise<number> {
    const command = this.#redis.sharded ? 'SPUBLISH' : 'PUBLISH';
    const inbox = this.#inbox(nodeId);
    const text = JSON.stringify(envelope);
    if (Buffer.byteLength(text) <= INLINE_BYTES) return Number(await this.#redis.command([command, inbox, text], inbox));
    // Too large for the receiver's pub/sub connection (see INLINE_BYTES): store it, publish its name.
    const key = this.#handoffPrefix(nodeId) + randomBytes(12).toString('base64url');
    await this.#redis.command(['SET', key, text, 'PX', String(HANDOFF_TTL)], key);
    const receivers = Number(await this.#redis.command([command, inbox, JSON.stringify({ t: 'k', key })], inbox));
    if (receivers === 0) void this.#redis.command(['DEL', key], key).catch(() => {}); // nobody will read it
    return receivers;
  }

  /** Take a handed-off envelope (read once, then deleted) and handle it like one that came inline. */
  async #takeHandoff(key: string): Promise<void> {
    const text = await this.#redis.command(['GET', key], key).catch(() => undefined);
    void this.#redis.command(['DEL', key], key).catch(() => {}); // else it waits for its expiry
    // Gone (expired, Redis away): a lost request or answer, as if the message had been — the sender times out.
    if (typeof text === 'string') this.#handle(text, false);
  }

  /**
   * Subscribe our inbox, retrying while Redis is away (node-redis resubscribes it after later
   * drops; PubsubChannels after its Cluster slot moved, and guards the handler: junk never throws
   * into node-redis).
   */
  async #subscribe(): Promise<void> {
    const inbox = this.#inbox(this.nodeId);
    for (;;) {
      if (this.#stopped) throw new Error('the relay is closed');
      try {
        await this.#pubsub.subscribe(inbox, this.#onMessage);
        return;
      } catch {
        await sleep(500);
      }
    }
  }

  /** Anything but an envelope of ours (another writer's junk on the inbox) is ignored. */
  readonly #onMessage = (text: string): void => this.#handle(text, true);

  /** @param inline whether `text` came on the inbox itself (only there may it name a handoff key) */
  #handle(text: string, inline: boolean): void {
    let envelope: unknown;
    try {
      envelope = JSON.parse(text);
    } catch {
      return;
    }
    // A handoff names a key: only one under our own handoff prefix is read (junk never makes us read, or delete, other keys).
    if (inline && isRecord(envelope) && envelope.t === 'k' && typeof envelope.key === 'string' && envelope.key.startsWith(this.#handoffPrefix(this.nodeId))) {
      return void this.#takeHandoff(envelope.key);
    }
    if (!isRecord(envelope) || typeof envelope.id !== 'string') return;
    if (envelope.t === 'r' && isResponse(envelope.response)) return this.#pending.get(envelope.id)?.(envelope.response);
    if (envelope.t === 'q' && typeof envelope.from === 'string' && isRequest(envelope.request)) void this.#answer(envelope as Extract<Envelope, { t: 'q' }>);
  }

  async #answer(envelope: Extract<Envelope, { t: 'q' }>): Promise<void> {
    const handler = this.#handler;
    let response: RelayedResponse;
    if (!handler) {
      response = { status: 404, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ error: { code: 'not_found', message: 'unknown session' } }) };
    } else {
      try {
        response = await handler(envelope.request);
      } catch {
        response = { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify({ error: { code: 'server_error', message: 'the relayed request failed' } }) };
      }
    }
    // If Redis is away now the sender times out and its client reconnects: nothing else to do.
    await this.#publish(envelope.from, { t: 'r', id: envelope.id, response }).catch(() => {});
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isTextRecord = (value: unknown): value is Record<string, string> => isRecord(value) && Object.values(value).every((v) => typeof v === 'string');

/** What a relayed request must be before it reaches the routes. */
function isRequest(value: unknown): value is RelayedRequest {
  return isRecord(value) && typeof value.method === 'string' && typeof value.url === 'string' && typeof value.body === 'string' && isTextRecord(value.headers);
}

/** What an answer must be before the sender writes it (the server checks status and header values again). */
function isResponse(value: unknown): value is RelayedResponse {
  return isRecord(value) && Number.isInteger(value.status) && typeof value.body === 'string' && isTextRecord(value.headers);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref?.());
