/**
 * A `text/event-stream` parser (the WHATWG HTML "event stream interpretation"), fed decoded text in
 * chunks of any size. Lines end in LF, CRLF or CR (a CR at the end of one chunk and an LF at the start
 * of the next are one line end); `:` lines are comments; `data`
 * lines are joined with LF; `event` names the type (default `message`); `id`, `retry` and unknown fields
 * are ignored (the client reconnects and recovers by itself); an event without data is not dispatched,
 * nor one left unfinished when the stream ends.
 *
 * The byte order mark is the decoder's to skip (`TextDecoder` does, as the SSE transport reads).
 * Linear in bytes: a line split across chunks is kept as fragments and joined once, when it ends, and
 * each chunk is searched once for line ends. Replaces `eventsource-parser` (~1.1 KB of the SSE bundle,
 * and its per-event object); a property test checks both dispatch the same events for any stream cut
 * anywhere (packages/core/test/event-stream.test.ts).
 *
 * @param onEvent called with each dispatched event's type and data
 * @returns `feed(chunk)`: the next piece of the stream's text
 */
export function eventStreamParser(onEvent: (type: string, data: string) => void): (chunk: string) => void {
  /** The current line's text from earlier chunks (a line split across chunks). */
  let fragments: string[] = [];
  let data: string | undefined;
  let type = '';
  /** The last chunk ended in CR: an LF first in this one ends nothing more. */
  let afterCR = false;

  const line = (text: string): void => {
    if (text === '') {
      if (data !== undefined) onEvent(type || 'message', data);
      data = undefined;
      type = '';
      return;
    }
    const colon = text.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon < 0 ? text : text.slice(0, colon);
    // One space after the colon is not part of the value.
    const value = colon < 0 ? '' : text.slice(text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1);
    if (field === 'data') data = data === undefined ? value : data + '\n' + value;
    else if (field === 'event') type = value;
  };

  return (chunk) => {
    if (chunk === '') return; // a decoder's empty piece: nothing to change (not even a pending CR)
    let at = 0;
    if (afterCR && chunk.charCodeAt(at) === 10) at++;
    afterCR = false;
    // Where the next CR and LF are, searched again only once passed: each chunk is scanned once per kind.
    let cr = chunk.indexOf('\r', at);
    let lf = chunk.indexOf('\n', at);
    while (cr >= 0 || lf >= 0) {
      const end = cr >= 0 && (lf < 0 || cr < lf) ? cr : lf;
      const piece = chunk.slice(at, end);
      if (fragments.length > 0) {
        fragments.push(piece);
        line(fragments.join(''));
        fragments = [];
      } else line(piece);
      at = end + 1;
      if (end === cr) {
        if (at === chunk.length) afterCR = true;
        else if (chunk.charCodeAt(at) === 10) at++;
      }
      if (cr >= 0 && cr < at) cr = chunk.indexOf('\r', at);
      if (lf >= 0 && lf < at) lf = chunk.indexOf('\n', at);
    }
    if (at < chunk.length) fragments.push(chunk.slice(at));
  };
}
