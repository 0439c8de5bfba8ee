import type { Receive, SharedLink } from './shared-link';
import type { LeaderMessage, TabMessage } from './shared-messages';
import { postClonable } from './shared-messages';

/**
 * The link where there is a SharedWorker: the connection lives in the worker (started with
 * `serveSharedConnection` from `@tidewire/core/shared-worker`), and the tab talks to it over the
 * worker's MessagePort. The worker outlives any one tab and ends with the last, so there is no
 * takeover. `failed` is called when the worker does not start (its `error` event, or no answer to
 * the first message within `timeout` ms) — the tab then falls back to a leader tab.
 */
export class WorkerLink implements SharedLink {
  readonly isLeader = false;
  readonly #port: MessagePort;
  #answered = false;
  #closed = false;
  readonly #deadline: ReturnType<typeof setTimeout>;

  constructor(worker: SharedWorker, receive: Receive, failed: (reason: string) => void, timeout: number) {
    const fail = (reason: string): void => {
      if (this.#answered || this.#closed) return;
      this.close();
      failed(reason);
    };
    worker.addEventListener('error', () => fail('the SharedWorker failed to start'));
    this.#port = worker.port;
    this.#port.onmessage = (event: MessageEvent<LeaderMessage>) => {
      if (this.#closed) return;
      this.#answered = true;
      clearTimeout(this.#deadline);
      receive(event.data);
    };
    this.#port.onmessageerror = () => fail('a message from the SharedWorker could not be read');
    this.#deadline = setTimeout(() => fail(`the SharedWorker did not answer within ${timeout} ms`), timeout);
    this.#port.start();
  }

  send(message: TabMessage): void {
    if (!this.#closed) postClonable((m) => this.#port.postMessage(m), message);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#deadline);
    this.#port.close();
  }
}
