import type { Clock } from './clock';
import { Timer } from './clock';
import type { ServerLimits } from './protocol/frames';

/** What a server that announces no limits enforces (protocol §8): 100 frames/s, burst 200. */
export const DEFAULT_LIMITS: ServerLimits = { rate: 100, burst: 200 };

/**
 * The share of the server's limits request frames may use. The server charges every frame
 * (pongs, unsubscribes, refreshes too) against one bucket, and its bucket started filling a
 * round trip before ours: the rest is headroom for frames that are not paced.
 */
const RATE_SHARE = 0.9;
const BURST_SHARE = 0.75;

/**
 * One client-side token bucket shared by every request frame (subscribe, publish), so that
 * recovery traffic — hundreds of resubscribes and a full outbox flushed at once after a
 * reconnect — stays within the rate the server enforces instead of being refused `rate_limited`.
 *
 * Jobs run in FIFO order: synchronously while tokens last (no latency in normal use), then one
 * per token from a single timer. A job is a callback, not a frame, so its owner decides at send
 * time what (if anything) still goes out. `clear()` forgets queued jobs when the line drops: their
 * owners schedule them again on the next line.
 */
export class RequestPacer {
  readonly #clock: Clock;
  /** Made when a job first has to wait for a token. */
  #timer: Timer | undefined;
  #runJob: (() => void) | undefined;
  /** Jobs waiting for a token, from `#head` on; made when a job first has to wait. */
  #queue: (() => void)[] | undefined;
  #head = 0;
  #rate = 0;
  #burst = 0;
  #tokens = 0;
  #refilledAt = 0;
  /** No job runs before this time (a server `retryAfter`). */
  #pausedUntil = 0;
  /** Jobs that are this function wait until {@link #heldUntil}; the others go on (see `pause`). */
  #held: (() => void) | undefined;
  #heldUntil = 0;
  /** When the timer is aimed at (while armed). */
  #armedAt = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.reset_(); // the default limits until the server announces its own
  }

  /** Jobs waiting for a token. */
  get queued_(): number {
    return (this.#queue?.length ?? 0) - this.#head;
  }

  /**
   * A new line: adopt the limits it announced (absent: the protocol defaults) with a full
   * bucket, as the server's own bucket is for a new connection.
   * @param limits `rate` in frames per second, `burst` in frames.
   */
  reset_(limits: ServerLimits = DEFAULT_LIMITS): void {
    this.clear_();
    this.#rate = Math.max(0.1, limits.rate * RATE_SHARE);
    this.#burst = Math.max(1, Math.floor(limits.burst * BURST_SHARE));
    this.#tokens = this.#burst;
    this.#refilledAt = this.#clock.now();
    this.#pausedUntil = this.#heldUntil = 0;
  }

  /** Forget every queued job (the line they were for is gone). */
  clear_(): void {
    this.#queue = undefined;
    this.#head = 0;
    this.#timer?.stop_();
  }

  /** Run `job` when a token is available: now if one is and nothing is queued ahead of it. */
  enqueue_(job: () => void): void {
    // Nothing queued ahead and a token free (normal use): run it, with no queue made for it.
    if (!this.#queue && !this.#isHeld(job) && this.#take()) return job();
    (this.#queue ??= []).push(job);
    this.#run();
  }

  /**
   * The server refused a request `rate_limited`: hold jobs for `ms` (the server's estimate of when
   * its next token exists), then go on at the sustained rate from a nearly empty bucket, so the
   * retries are not refused too.
   *
   * Given `only`, just the jobs that are that function wait (in their order) and the others go on:
   * a refused publish holds back the publishes (the server holds the connection's later ones too,
   * protocol §8), but not a subscribe or a history read — the refusal may be one channel's slow
   * mode (`PublishRefusal(…, 'rate_limited')`), and were it the frame-rate limit, the next
   * refusal of another request pauses everything.
   * @param ms the server's `retryAfter`, in milliseconds.
   * @param only the job to hold back (the outbox's send job); default: every job.
   */
  pause(ms: number, only?: () => void): void {
    const until = this.#clock.now() + ms;
    if (only) {
      this.#held = only;
      this.#heldUntil = Math.max(this.#heldUntil, until);
      this.#tokens = Math.min(this.#tokens, 1);
    } else {
      // One token when the pause ends — but the pause lasts at least one token's interval: a refusal
      // with a `retryAfter` of 0 must not hand out a fresh token each time (a client refused again and
      // again re-sent ~700 subscribes a second, past its own bucket).
      this.#pausedUntil = Math.max(this.#pausedUntil, until, this.#clock.now() + Math.ceil(1000 / this.#rate));
      this.#tokens = 1;
      this.#refilledAt = this.#pausedUntil;
    }
    this.#arm();
  }

  #run(): void {
    for (let at = this.#runnable(); at >= 0 && this.#take(); at = this.#runnable()) {
      // Nearly always the head; a job behind held ones is taken out of the middle (order kept).
      const queue = this.#queue!;
      const job = at === this.#head ? queue[this.#head++]! : queue.splice(at, 1)[0]!;
      if (this.#head === queue.length) this.clear_();
      job();
    }
    this.#arm();
  }

  /** Where the first job that may run now is, or -1 (nothing queued, or only held jobs). */
  #runnable(): number {
    const queue = this.#queue ?? [];
    for (let at = this.#head; at < queue.length; at++) if (!this.#isHeld(queue[at]!)) return at;
    return -1;
  }

  /** Whether `job` is the held one, and its hold still lasts (no clock read when nothing was ever held). */
  #isHeld(job: () => void): boolean {
    return job === this.#held && this.#heldUntil !== 0 && this.#clock.now() < this.#heldUntil;
  }

  #take(): boolean {
    const now = this.#clock.now();
    if (now < this.#pausedUntil) return false;
    this.#tokens = Math.min(this.#burst, this.#tokens + (Math.max(0, now - this.#refilledAt) * this.#rate) / 1000);
    this.#refilledAt = Math.max(now, this.#refilledAt);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Aim the one timer at the moment the next token exists (or the pause ends). */
  #arm(): void {
    if (this.queued_ === 0) return this.#timer?.stop_();
    const now = this.#clock.now();
    const untilToken = Math.ceil(((1 - this.#tokens) * 1000) / this.#rate);
    const untilHeld = this.#runnable() < 0 ? this.#heldUntil - now : 0; // only held jobs wait
    const wait = Math.max(1, this.#pausedUntil - now, untilToken, untilHeld);
    // Armed sooner already: keep it. Armed later (for held jobs, and another job just came): aim again.
    if (this.#timer?.armed_ && this.#armedAt <= now + wait) return;
    this.#armedAt = now + wait;
    (this.#timer ??= new Timer(this.#clock)).start_(wait, (this.#runJob ??= () => this.#run()));
  }
}
