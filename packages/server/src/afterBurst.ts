/**
 * Run `task` once the current burst of synchronous work is over: a broker
 * publish delivers to every subscriber in one synchronous step, and the bench's
 * (or an app's) publish loop sends many messages in one. Work that only needs
 * doing once per burst — flushing a corked socket, checking a session's buffer —
 * is queued here instead of being done per message.
 *
 * One shared microtask serves every task queued in the same burst (a fan-out to
 * 1,000 sessions queues 1,000 tasks, not 1,000 microtasks). A microtask rather
 * than process.nextTick/setImmediate: it runs as soon as the burst ends, so a
 * lone reply (an ack) is not held back, and an async loop of `await publish()`
 * cannot keep it waiting — nextTick would wait for the whole microtask chain.
 */
let queue: (() => void)[] = [];

/**
 * Characters (≈ bytes: frames are mostly ASCII JSON) a link holds back within one burst
 * before writing them out mid-burst. A publish loop that never yields must not turn into one
 * huge write at its end (the client idle until then, every frame in memory at once): large
 * enough that a burst still leaves in few syscalls, small enough to fit a kernel socket
 * buffer, so the flush reaches the network at once instead of queueing in memory.
 */
export const BURST_FLUSH_CHARS = 64 * 1024;

export function afterBurst(task: () => void): void {
  if (queue.length === 0) queueMicrotask(flush);
  queue.push(task);
}

function flush(): void {
  // Swapped first: a task that queues more work starts the next burst's queue.
  const tasks = queue;
  queue = [];
  let failure: { error: unknown } | undefined;
  for (const task of tasks) {
    try {
      task();
    } catch (error) {
      // Every task still runs (a skipped uncork would stall its socket for good); the first error surfaces.
      failure ??= { error };
    }
  }
  if (failure) throw failure.error;
}
