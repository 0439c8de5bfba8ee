import type { ClientFrame, CloseCode, ErrorCode, ServerFrame } from '../src/protocol/frames';
import type { FakeLine, fakeTransport } from './fake-transport';
import { connected } from './fake-transport';

/** One stored message of the model server. Offsets start at 1 and have no holes. */
export interface StoredMessage {
  readonly offset: number;
  readonly id: string;
  readonly data: unknown;
}

/** A channel's stream on the model server: the epoch, everything stored in it, and how far back history reaches. */
interface ChannelLog {
  epoch: string;
  readonly messages: StoredMessage[];
  /** The oldest offset still in history; older ones were trimmed. */
  historyFrom: number;
}

/** What the model server knows about one transport line (one `fakeTransport` line). */
interface LineState {
  readonly line: FakeLine;
  /** Client frames already answered. */
  served: number;
  /** Frames written by the server but not yet delivered (the test decides when and in which order). */
  readonly outgoing: string[];
  /** Message frames delivered on this line, for duplicates. */
  readonly delivered: string[];
  readonly subscriptions: Set<string>;
  greeted: boolean;
}

/**
 * A small, correct reference server played by hand over `fakeTransport`, for property tests:
 * it stores publishes once per id, replays from `since` like MemoryBroker (protocol §6), and
 * lets the test choose when frames travel — so random schedules can reorder, duplicate, delay,
 * drop and restart without the server itself ever breaking the contract.
 */
export class ModelServer {
  readonly #transport: ReturnType<typeof fakeTransport>;
  readonly #logs = new Map<string, ChannelLog>();
  readonly #lines = new Map<FakeLine, LineState>();
  /** Publish id → where it was stored (the dedupe window never expires here). */
  readonly stored = new Map<string, { readonly channel: string; readonly epoch: string; readonly offset: number }>();
  /** `channel/epoch/offset` → data, for every message ever stored (kept across restarts and trims). */
  readonly archive = new Map<string, unknown>();
  #epochs = 0;
  #serverIds = 0;
  /** The next subscribe or publish is refused with this error (one shot). */
  #refusal: { readonly code: ErrorCode; readonly retryAfter?: number } | undefined;

  constructor(transport: ReturnType<typeof fakeTransport>) {
    this.#transport = transport;
  }

  /** The channel's log, created on first use. */
  log(channel: string): { readonly epoch: string; readonly messages: readonly StoredMessage[] } {
    let log = this.#logs.get(channel);
    if (!log) {
      log = { epoch: `e${++this.#epochs}`, messages: [], historyFrom: 1 };
      this.#logs.set(channel, log);
    }
    return log;
  }

  /** The newest line, if the client has opened one and not closed it. */
  get #current(): LineState | undefined {
    const line = this.#transport.lines.at(-1);
    if (!line || line.closedByClient) return undefined;
    let state = this.#lines.get(line);
    if (!state) {
      state = { line, served: 0, outgoing: [], delivered: [], subscriptions: new Set(), greeted: false };
      this.#lines.set(line, state);
    }
    return state;
  }

  /** Accept the newest line: the pipe opens and the server greets it. */
  open(heartbeat: number): void {
    const state = this.#current;
    if (!state || state.greeted) return;
    state.greeted = true;
    state.line.open();
    state.line.push(connected(heartbeat));
  }

  /** Answer every client frame not yet answered on the newest line (answers wait in `outgoing`). */
  serve(): void {
    const state = this.#current;
    if (!state?.greeted) return;
    while (state.served < state.line.sent.length) this.#answer(state, state.line.sent[state.served++]!);
  }

  #answer(state: LineState, frame: ClientFrame): void {
    const queue = (f: ServerFrame) => state.outgoing.push(JSON.stringify(f));
    const refusal = (frame.type === 'subscribe' || frame.type === 'publish') && this.#refusal;
    if (refusal) {
      this.#refusal = undefined;
      queue({ type: 'error', id: frame.id, code: refusal.code, message: 'refused by the model', ...(refusal.retryAfter !== undefined && { retryAfter: refusal.retryAfter }) });
      return;
    }
    switch (frame.type) {
      case 'subscribe': {
        const log = this.log(frame.channel) as ChannelLog;
        const head = log.messages.length;
        const { since } = frame;
        const canReplay = since !== undefined && since.epoch === log.epoch && since.offset <= head && since.offset + 1 >= log.historyFrom;
        const from = canReplay ? since.offset : head;
        queue({ type: 'subscribed', id: frame.id, channel: frame.channel, epoch: log.epoch, offset: from, recovered: since === undefined || canReplay });
        for (const m of log.messages.slice(from)) queue(this.#messageFrame(frame.channel, log.epoch, m));
        state.subscriptions.add(frame.channel);
        return;
      }
      case 'unsubscribe':
        state.subscriptions.delete(frame.channel);
        return;
      case 'publish': {
        const known = this.stored.get(frame.id);
        const position = known ?? this.#store(frame.channel, frame.id, frame.data);
        queue({ type: 'ack', id: frame.id, epoch: position.epoch, offset: position.offset });
        return;
      }
      case 'ping':
        queue({ type: 'pong' });
        return;
      case 'refresh':
        queue({ type: 'refreshed', id: frame.id });
        return;
      default:
        return;
    }
  }

  /** A publish from the server side (an app's backend). */
  publish(channel: string, data: unknown): void {
    this.#store(channel, `srv-${++this.#serverIds}`, data);
  }

  #store(channel: string, id: string, data: unknown) {
    const log = this.log(channel) as ChannelLog;
    const message: StoredMessage = { offset: log.messages.length + 1, id, data };
    log.messages.push(message);
    this.archive.set(`${channel}/${log.epoch}/${message.offset}`, data);
    const position = { channel, epoch: log.epoch, offset: message.offset };
    this.stored.set(id, position);
    const state = this.#current;
    if (state?.subscriptions.has(channel)) state.outgoing.push(JSON.stringify(this.#messageFrame(channel, log.epoch, message)));
    return position;
  }

  #messageFrame = (channel: string, epoch: string, m: StoredMessage): ServerFrame => ({
    type: 'message',
    channel,
    epoch,
    offset: m.offset,
    id: m.id,
    data: m.data,
  });

  /**
   * Deliver up to `count` waiting frames on the newest line; `swap` first exchanges the first two
   * when both are messages of one channel (a message overtaking another, as replay and live
   * traffic can). Nothing overtakes a `subscribed`: the server always answers before it streams.
   */
  deliver(count: number, swap: boolean): void {
    const state = this.#current;
    if (!state?.greeted) return;
    const [first, second] = state.outgoing.map((text) => JSON.parse(text) as ServerFrame);
    if (swap && first?.type === 'message' && second?.type === 'message' && first.channel === second.channel) {
      [state.outgoing[0], state.outgoing[1]] = [state.outgoing[1]!, state.outgoing[0]!];
    }
    for (const text of state.outgoing.splice(0, count)) {
      if (state.line.closedByClient) return;
      if (text.includes('"type":"message"')) state.delivered.push(text);
      state.line.push(text);
    }
  }

  /** Deliver again a message frame already delivered on this line (a duplicate). */
  duplicate(pick: number): void {
    const state = this.#current;
    if (!state?.greeted || state.delivered.length === 0) return;
    state.line.push(state.delivered[pick % state.delivered.length]!);
  }

  /** Send something that is not a valid frame. */
  garbage(text: string): void {
    const state = this.#current;
    if (state?.greeted) state.line.push(text);
  }

  /** The line drops (network, proxy, server closing with `code`). */
  drop(code: CloseCode | undefined): void {
    const state = this.#current;
    if (!state) return;
    this.#lines.delete(state.line);
    state.line.drop({ message: 'dropped by the test', ...(code && { code }) });
  }

  /** The server restarts: a new epoch for every channel (history gone), and the line drops. */
  restart(): void {
    for (const log of this.#logs.values()) {
      log.epoch = `e${++this.#epochs}`;
      log.messages.length = 0;
      log.historyFrom = 1;
    }
    this.drop('going_away');
  }

  /** Refuse the next subscribe or publish with `code` (and a retry hint). */
  refuseNext(code: ErrorCode, retryAfter?: number): void {
    this.#refusal = { code, ...(retryAfter !== undefined && { retryAfter }) };
  }

  /** The channel's stream starts over in a new epoch while the line stays up (a broker lost it). */
  newEpoch(channel: string): void {
    const log = this.log(channel) as ChannelLog;
    log.epoch = `e${++this.#epochs}`;
    log.messages.length = 0;
    log.historyFrom = 1;
  }

  /** The server ends one subscription on the live line (`unsubscribed` with `code`). */
  kick(channel: string, code: ErrorCode): void {
    const state = this.#current;
    if (!state?.greeted || !state.subscriptions.delete(channel)) return;
    state.outgoing.push(JSON.stringify({ type: 'unsubscribed', channel, code, message: 'ended by the model' } satisfies ServerFrame));
  }

  /** History of `channel` no longer reaches back before its newest `keep` messages. */
  trim(channel: string, keep: number): void {
    const log = this.log(channel) as ChannelLog;
    log.historyFrom = Math.max(log.historyFrom, log.messages.length - keep + 1);
  }
}
