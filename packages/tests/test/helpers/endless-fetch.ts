/**
 * A `fetch` for the HTTP transports that passes the real server's answers through until the test
 * breaks it; then the open SSE stream, or the long-poll answer in flight (or the next one), turns
 * into a frame that never ends (what a broken server or proxy does). It counts the bytes of that endless part the
 * client pulled: all it can have buffered of it.
 * @param kind which endpoint to break: the SSE stream or the long-poll answers
 */
export function endlessFetch(kind: 'sse' | 'poll') {
  const piece = new TextEncoder().encode('a'.repeat(16 * 1024));
  const start = new TextEncoder().encode(kind === 'sse' ? 'data: ' : '{"seq":999999}\n');
  let breakNow!: () => void;
  const broken = new Promise<null>((resolve) => (breakNow = () => resolve(null)));
  let isBroken = false;
  const state = { pulled: 0, endless: 0 };
  // An endless frame: its opening, then the same piece for as long as the client reads.
  const endlessBody = () => {
    state.endless++;
    let first = true;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        const chunk = first ? start : piece;
        first = false;
        state.pulled += chunk.length;
        controller.enqueue(chunk);
      },
    });
  };
  // The real body until the break, then the endless one (a real chunk still on its way is dropped).
  const breakable = (body: ReadableStream<Uint8Array>) => {
    const reader = body.getReader();
    let reading: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
    let endless: ReadableStreamDefaultReader<Uint8Array> | undefined;
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!endless) {
          const next = await Promise.race([(reading ??= reader.read()), broken]);
          if (next) {
            reading = undefined;
            return next.done ? controller.close() : controller.enqueue(next.value);
          }
          void reader.cancel().catch(() => {});
          endless = endlessBody().getReader();
        }
        controller.enqueue((await endless.read()).value!);
      },
      cancel: () => void reader.cancel().catch(() => {}),
    });
  };
  const fetch: typeof globalThis.fetch = async (input, init = {}) => {
    const isGet = (init.method ?? 'GET') === 'GET';
    if (!isGet || !String(input).includes(`/${kind}`)) return globalThis.fetch(input, init);
    if (kind === 'poll') {
      // One poll after the break never ends; those after it (the new session's) are the server's.
      if (isBroken) return state.endless ? globalThis.fetch(input, init) : new Response(endlessBody());
      const answer = await Promise.race([globalThis.fetch(input, init), broken]);
      return answer ?? new Response(endlessBody());
    }
    const res = await globalThis.fetch(input, init);
    if (isBroken || !res.body) return res; // only the stream open at the break goes wrong
    return new Response(breakable(res.body), { status: res.status, headers: res.headers });
  };
  return {
    fetch,
    state,
    /** The open SSE stream, or the pending (else the next) long-poll answer, never ends. */
    break() {
      isBroken = true;
      breakNow();
    },
  };
}
