const LF = 10;
const CR = 13;

/**
 * Count the bytes of an SSE stream since its last complete event, chunk by chunk, without parsing
 * it: an event (a comment included) ends at a blank line, `\n\n` or `\r\n\r\n`. For the
 * `eventsource()` transport, whose EventSource buffers an unfinished event where we cannot see it:
 * the bytes pass through our `fetch` first, so their count bounds what it holds.
 * A stream whose lines end with a lone `\r` is not measured right; the reference server ends
 * lines with `\n`, and proxies at most add a `\r` before it.
 * @returns a meter: give it each chunk in order, it answers the bytes of the unfinished event
 */
export function sseEventMeter(): (chunk: Uint8Array) => number {
  let pending = 0; // bytes since the last event ended
  let line = 0; // bytes of the current line in earlier chunks
  let lineIsCR = false; // the current line so far is exactly "\r"
  return (chunk) => {
    let from = 0;
    let ended = -1; // where the last event ending in this chunk ends
    for (let lf; (lf = chunk.indexOf(LF, from)) !== -1; from = lf + 1) {
      const length = line + (lf - from);
      if (length === 0 || (length === 1 && (line === 1 ? lineIsCR : chunk[from] === CR))) ended = lf + 1;
      line = 0;
      lineIsCR = false;
    }
    const tail = chunk.length - from;
    if (tail) {
      lineIsCR = line === 0 && tail === 1 && chunk[from] === CR;
      line += tail;
    }
    pending = ended === -1 ? pending + chunk.length : chunk.length - ended;
    return pending;
  };
}
