import { Timer } from './clock';
import type { TidewireError } from './errors';
import { TidewireError as BaseError, TimeoutError } from './errors';
import type { AckFrame } from './protocol/frames';
import type { RequestsHost } from './requests';

/** Where a publish was stored: its `id`, the channel's `epoch` and its `offset` there. */
export interface PublishResult {
  readonly id: string;
  readonly epoch: string;
  readonly offset: number;
}

/** `queued`: waiting for a line; `scheduled`: handed to the pacer; `sent`: on the current line, awaiting its ack. */
type Phase = 'queued' | 'scheduled' | 'sent';

/** Per-request variations on the publish rules (rpc uses them). */
export interface RequestRules {
  /** Milliseconds from sending to the answer, instead of `publishTimeout`. */
  readonly timeout?: number;
  /**
   * True for requests the server does not deduplicate (rpc): one that was on the wire when the
   * line dropped is rejected with `interrupted` instead of sent again (it may or may not have run).
   */
  readonly atMostOnce?: boolean;
}

interface Pending {
  readonly id_: string;
  readonly text_: string;
  /** What it is for (`publish:<channel>`, `rpc:<method>`): an id joins a pending request only for the same. */
  readonly target_: string;
  readonly promise_: Promise<unknown>;
  readonly rules_: RequestRules;
  resolve(result: unknown): void;
  reject_(error: TidewireError): void;
  phase_: Phase;
  /** When the current phase gives up: `queueTimeout` after it became unsent, `publishTimeout` after it was sent. */
  deadline_: number;
  /** When its unsent wait began (publish(), or the drop that took its line): `rate_limited` retries count from here. */
  since_: number;
  /** Its place in publish order: the pacer sends what is scheduled in this order. */
  seq_: number;
}

/** The line (`clock_`, `canSend_`, `schedule_`, `send_`) and the outbox's limits. */
export interface OutboxOptions extends RequestsHost {
  /** Milliseconds from sending a publish on a line to its ack. */
  publishTimeout_: number;
  /** Milliseconds a publish may wait unsent (offline, or queued behind the rate limit); `Infinity`: no limit. */
  queueTimeout_: number;
  /** Bound on publishes not yet acknowledged, queued or in flight. */
  maxSize_: number;
  /** Whether a frame fits the limit the server announced; one that does not is refused, never sent. */
  fits_(text: string): boolean;
  /** Describes the limit `fits` checks, for the `too_large` error. */
  limitText_(): string;
}

/**
 * Publishes not yet acknowledged, in publish order. Each keeps its encoded frame and id, so a
 * retry after reconnect re-sends the same id and the server stores it once.
 *
 * Two separate limits (docs/client.md): time spent unsent (`queueTimeout`, counted from publish()
 * or from the drop that took the line away) and time waiting for the ack of a frame actually on
 * the wire (`publishTimeout`, counted from sending). One timer, aimed at the earliest deadline,
 * serves them all; it is not re-aimed on every ack — when it fires it rejects what has expired
 * and aims at the next deadline — so a stream of publishes costs no timer work per message.
 */
export class Outbox {
  /** Made on the first publish: an idle client's outbox holds no map and no timer. */
  #pending: Map<string, Pending> | undefined;
  readonly #options: OutboxOptions;
  #timer: Timer | undefined;
  /** The pacer job and the timer callback, made on first use and reused (no closure per publish). */
  #sendNextJob: (() => void) | undefined;
  #expireJob: (() => void) | undefined;
  #timerAt = Infinity;
  #seq = 0;
  /**
   * What waits in the pacer, in publish order. A pacer job sends the first of these, not a fixed
   * entry: a publish refused `rate_limited` and scheduled again goes before those published after
   * it, without re-queuing them (which would cost the pacer a token per stale job).
   */
  readonly #scheduled: Pending[] = [];
  /** Some entry may be `queued` (unsent while offline or since a drop) until the next {@link flush_}. */
  #unflushed = false;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  get size_(): number {
    return this.#pending?.size ?? 0;
  }

  /** The one pacer job that sends the next scheduled entry (what a `rate_limited` publish holds back). */
  get sendJob_(): () => void {
    return (this.#sendNextJob ??= () => this.#sendNext());
  }

  /** Whether a request that may not be sent again (`atMostOnce`: an rpc) is on the wire, awaiting its answer. */
  busy_(): boolean {
    for (const entry of this.#pending?.values() ?? []) if (entry.phase_ === 'sent' && entry.rules_.atMostOnce) return true;
    return false;
  }

  /** What the request pending under `id` is for (`publish:<channel>`, `rpc:<method>`), if one is. */
  targetOf_(id: string): string | undefined {
    return this.#pending?.get(id)?.target_;
  }

  /** The unacknowledged requests, in publish order (a copy: callers settle entries while iterating). */
  #entries(): Pending[] {
    return this.#pending ? [...this.#pending.values()] : [];
  }

  /**
   * Queue a publish. An id already pending joins that publish (same promise): an app retrying
   * with the same id while the first attempt is still queued or in flight stores it once (the
   * caller refuses the same id for another `target` first: see {@link targetOf_}). `spent`: ms of
   * its `queueTimeout` already used (a publish restored from the last run's storage).
   */
  add_<T = PublishResult>(id: string, text: string, rules: RequestRules = {}, target = '', spent = 0): Promise<T> {
    const pending = (this.#pending ??= new Map());
    const existing = pending.get(id);
    if (existing) return existing.promise_ as Promise<T>;
    const { maxSize_: maxSize, queueTimeout_: queueTimeout, clock_: clock } = this.#options;
    if (pending.size >= maxSize) {
      return Promise.reject(new BaseError('queue_full', `outbox full: ${maxSize} unacknowledged requests`, { context: { id } }));
    }
    let resolve!: Pending['resolve'];
    let reject!: Pending['reject_'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res as Pending['resolve'];
      reject = rej;
    });
    const since = clock.now() - spent;
    // One object per publish: no intermediate `{ resolve, reject }` spread into it.
    const entry: Pending = { id_: id, text_: text, target_: target, promise_: promise, rules_: rules, resolve, reject_: reject, phase_: 'queued', deadline_: since + queueTimeout, since_: since, seq_: ++this.#seq };
    pending.set(id, entry);
    this.#aim(entry.deadline_);
    // Behind whatever still waits from before the line came up (a publish made by app code that
    // runs while the client takes the new line must not overtake the offline ones).
    if (!this.#options.canSend_()) this.#unflushed = true;
    else if (this.#unflushed) this.flush_();
    else this.#schedule(entry);
    return promise;
  }

  /** A line is up: schedule everything unsent, oldest first; refuse at once what no longer fits. */
  flush_(): void {
    this.#unflushed = false;
    for (const entry of this.#entries()) {
      // The line can die while this sends (a transport failing synchronously): the rest waits for the next one.
      if (!this.#options.canSend_()) return void (this.#unflushed = true);
      if (entry.phase_ === 'queued') this.#schedule(entry);
    }
  }

  /** The line dropped: whatever was scheduled or in flight goes again, with the same id, on the next one. */
  requeue_(): void {
    this.#scheduled.length = 0; // the pacer forgets its jobs with the line
    this.#unflushed = true;
    const now = this.#options.clock_.now();
    const deadline = now + this.#options.queueTimeout_;
    for (const entry of this.#entries()) {
      if (entry.phase_ === 'sent' && entry.rules_.atMostOnce) {
        this.refuse(entry.id_, new BaseError('interrupted', 'the line dropped after sending: it may or may not have run', { context: { id: entry.id_ } }));
        continue;
      }
      // Time already spent queued still counts; a frame that was on the wire starts a new wait.
      if (entry.phase_ === 'sent') {
        entry.deadline_ = deadline;
        entry.since_ = now;
      }
      entry.phase_ = 'queued';
    }
    this.#aim(deadline);
  }

  /**
   * The server refused this publish for now (`rate_limited`): send it again through the pacer,
   * which the caller has paused for the server's `retryAfter`, in its place in publish order —
   * before the publishes after it that still wait in the pacer, so none overtakes it (the server
   * holds back those already sent, protocol §8). Its `queueTimeout` still counts from when
   * it was published: a publish refused forever rejects `timeout` then. Returns false when `id` is not ours.
   */
  retry(id: string): boolean {
    const entry = this.#pending?.get(id);
    if (!entry) return false;
    entry.deadline_ = entry.since_ + this.#options.queueTimeout_;
    this.#aim(entry.deadline_);
    if (entry.phase_ === 'scheduled') return true; // already waiting in its place
    // An rpc promises no order: it goes behind what waits, so one refused again and again (the
    // server's concurrency cap) cannot keep the requests after it from being sent.
    if (entry.rules_.atMostOnce) entry.seq_ = ++this.#seq;
    entry.phase_ = 'queued';
    if (this.#options.canSend_()) this.#schedule(entry);
    else this.#unflushed = true;
    return true;
  }

  ack(frame: AckFrame): void {
    const entry = this.#settle(frame.id);
    entry?.resolve({ id: frame.id, epoch: frame.epoch, offset: frame.offset });
  }

  /** The answer to a request other than a publish (an rpc `result`): resolves with `data`. */
  answer(id: string, data: unknown): void {
    this.#settle(id)?.resolve(data);
  }

  /** Returns false when `id` is not ours (the error answers another kind of request). */
  refuse(id: string, error: TidewireError): boolean {
    const entry = this.#settle(id);
    entry?.reject_(error);
    return entry !== undefined;
  }

  failAll_(error: TidewireError): void {
    this.#stopTimer();
    for (const entry of this.#entries()) this.refuse(entry.id_, error);
  }

  #settle(id: string): Pending | undefined {
    const pending = this.#pending;
    const entry = pending?.get(id);
    if (!entry) return undefined;
    pending!.delete(id);
    // The timer stays armed when the last entry settles: a publish→ack loop would otherwise arm and
    // clear a platform timer per publish. When it fires with nothing due it simply does not re-arm;
    // while the line is up it holds the process no longer than the line does (close() stops it).
    return entry;
  }

  #stopTimer(): void {
    this.#timer?.stop_();
    this.#timerAt = Infinity;
  }

  #schedule(entry: Pending): void {
    if (!this.#fits(entry)) return;
    entry.phase_ = 'scheduled';
    const scheduled = this.#scheduled;
    // Nearly always the newest: appended. A retry goes back in its place (rare: a short scan).
    let at = scheduled.length;
    while (at > 0 && scheduled[at - 1]!.seq_ > entry.seq_) at--;
    if (at === scheduled.length) scheduled.push(entry);
    else scheduled.splice(at, 0, entry);
    this.#options.schedule_(this.sendJob_);
  }

  /** One pacer job: send the first scheduled entry still waiting (one job was queued per entry scheduled). */
  #sendNext(): void {
    if (!this.#options.canSend_()) return;
    for (let entry = this.#scheduled.shift(); entry; entry = this.#scheduled.shift()) {
      // Acked, refused or requeued since it was scheduled: not sent.
      if (this.#pending?.get(entry.id_) !== entry || entry.phase_ !== 'scheduled' || !this.#fits(entry)) continue;
      // Its queueTimeout ran out while it waited in the pacer (a publish refused rate_limited again and again): not sent.
      if (entry.deadline_ <= this.#options.clock_.now()) {
        this.#expire();
        continue;
      }
      entry.phase_ = 'sent';
      entry.deadline_ = this.#options.clock_.now() + (entry.rules_.timeout ?? this.#options.publishTimeout_);
      this.#aim(entry.deadline_);
      this.#options.send_(entry.text_);
      return;
    }
  }

  /** The server announced a smaller `maxPayload` than the frame: refuse it for good (it would be refused on every line). */
  #fits(entry: Pending): boolean {
    if (this.#options.fits_(entry.text_)) return true;
    this.refuse(
      entry.id_,
      new BaseError('too_large', `${entry.target_.split(':')[0]} is larger than the server's limit of ${this.#options.limitText_()}`, { context: { id: entry.id_ } }), // publish or rpc
    );
    return false;
  }

  /** Reject what has expired, then aim at the next deadline. */
  #expire(): void {
    this.#timerAt = Infinity;
    const now = this.#options.clock_.now();
    let next = Infinity;
    for (const entry of this.#entries()) {
      if (entry.deadline_ > now) {
        next = Math.min(next, entry.deadline_);
        continue;
      }
      this.#pending!.delete(entry.id_);
      const sent = entry.phase_ === 'sent';
      const message = sent
        ? `no answer within ${entry.rules_.timeout ?? this.#options.publishTimeout_} ms of sending`
        : `not sent within queueTimeout (${this.#options.queueTimeout_} ms)`;
      entry.reject_(new TimeoutError('timeout', message, { context: { id: entry.id_, sent } }));
    }
    this.#aim(next);
  }

  /** Make sure the timer fires no later than `deadline`. */
  #aim(deadline: number): void {
    if (deadline >= this.#timerAt || deadline === Infinity) return;
    this.#timerAt = deadline;
    // A past deadline fires at once, a distant one waits in steps: Timer clamps and chains.
    (this.#timer ??= new Timer(this.#options.clock_)).start_(deadline - this.#options.clock_.now(), (this.#expireJob ??= () => this.#expire()));
  }
}
