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
