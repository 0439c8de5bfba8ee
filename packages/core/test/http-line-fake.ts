import type { TransportClose, TransportEvents } from '../src/transport';

/** One request as the fake server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: string | undefined;
}

/** A response body the test writes chunk by chunk, exactly as given (no re-framing). */
export function chunkedBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const encoder = new TextEncoder();
  return {
    body,
    write: (text: string) => controller.enqueue(encoder.encode(text)),
    writeBytes: (bytes: Uint8Array) => controller.enqueue(bytes),
    end: () => controller.close(),
  };
}

/** A stream that yields `bytes` cut at the given sizes, then ends. */
export function bodyInChunks(bytes: Uint8Array, sizes: readonly number[]): ReadableStream<Uint8Array> {
  let at = 0;
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      const size = sizes[i++ % sizes.length]!;
      controller.enqueue(bytes.subarray(at, at + size));
      at += size;
    },
  });
}

/** Chunk sizes from 1 B to 64 KiB, log-uniform (many small, some large), from a seeded generator. */
export function randomChunkSizes(count: number, seed = 1): number[] {
  let state = seed >>> 0 || 1;
  const next = () => ((state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32);
  return Array.from({ length: count }, () => Math.max(1, Math.floor(2 ** (next() * 16))));
}

/** A fetch that records every request and answers from `answer`. */
export function fakeFetch(answer: (req: SeenRequest, n: number) => Response | Promise<Response>) {
  const seen: SeenRequest[] = [];
  const fetch: typeof globalThis.fetch = async (input, init = {}) => {
    const req: SeenRequest = {
      method: init.method ?? 'GET',
      url: String(input),
      headers: new Headers(init.headers),
      body: typeof init.body === 'string' ? init.body : undefined,
    };
    seen.push(req);
    return answer(req, seen.length);
  };
  return { fetch, seen };
}

/** Transport events that record everything, activity and invalid reports included. */
export function fullRecorder() {
  const log = { opened: 0, frames: [] as string[], closes: [] as TransportClose[], activity: 0, activityBytes: 0, invalid: [] as string[] };
  const events: Required<TransportEvents> = {
    onOpen: () => void log.opened++,
    onFrame: (text) => void log.frames.push(text),
    onActivity: (bytes) => {
      log.activity++;
      log.activityBytes += bytes ?? 0;
    },
    onInvalid: (reason) => void log.invalid.push(reason),
    onClose: (info) => void log.closes.push(info),
  };
  return { log, events };
}

/** Resolve when `predicate` holds, polling every 5 ms; fail with `what` after `timeout` ms. */
export async function until(predicate: () => boolean, what: string, timeout = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
