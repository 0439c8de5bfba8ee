import fc from 'fast-check';
import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { eventStreamParser } from '../src/transports/event-stream';

/** What a parser dispatched, as [type, data] pairs. */
function ours(chunks: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  const feed = eventStreamParser((type, data) => out.push([type, data]));
  for (const c of chunks) feed(c);
  return out;
}

/** The reference: eventsource-parser, as the SSE transport used it before (type defaults to `message`). */
function reference(chunks: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  const parser = createParser({ onEvent: (e) => out.push([e.event ?? 'message', e.data]) });
  for (const c of chunks) parser.feed(c);
  return out;
}

/** Cut `text` at the given fractions (any place: inside a CRLF, a field name, a character). */
const cut = (text: string, at: number[]): string[] => {
  const points = [...new Set(at.map((f) => Math.floor(f * (text.length + 1))))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const p of points) {
    out.push(text.slice(from, p));
    from = p;
  }
  out.push(text.slice(from));
  return out;
};

const EOL = fc.constantFrom('\n', '\r\n', '\r');
const value = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('', ' ', ' x', ':', 'a: b', '{"type":"message","data":1}', 'é😀'));
const field = fc.constantFrom('data', 'event', 'id', 'retry', 'other', 'data ', 'Data', '');
/** Streams built from realistic lines (fields, comments, blank lines) with mixed line endings, plus raw noise. */
const streamLine = fc.oneof(
  fc.tuple(field, fc.constantFrom(':', ': ', ':  ', ''), value).map(([f, sep, v]) => f + sep + v),
  value.map((v) => ':' + v), // a comment
  fc.constant(''), // a blank line: dispatch
  fc.string({ maxLength: 6 }), // noise
);
const stream = fc
  .tuple(fc.array(fc.tuple(streamLine, EOL), { maxLength: 25 }), fc.option(streamLine))
  .map(([lines, tail]) => lines.map(([l, e]) => l + e).join('') + (tail ?? ''));

describe('eventStreamParser (event-stream.ts)', () => {
  it('dispatches exactly what eventsource-parser dispatches, for any stream cut anywhere', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), (text, at) => {
        // A CR that ends the stream ends its line (WHATWG); eventsource-parser waits for a possible LF first.
        expect(ours(cut(text, at))).toEqual(reference([text.endsWith('\r') ? text + '\n' : text]));
      }),
      { numRuns: 3000 },
    );
  });

  it('treats a CR at the end of a chunk and an LF at the start of the next (even after an empty chunk) as one line end', () => {
    expect(ours(['data: a\r', '', '\ndata: b\r', '\n\r\n'])).toEqual([['message', 'a\nb']]);
  });

  it('reads a line split into many chunks in linear time (a 4 MiB data line in 1-byte to 4 KiB pieces)', () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const text = `event: big\ndata: ${big}\n\n`;
    const chunks: string[] = [];
    for (let at = 0, size = 1; at < text.length; at += size, size = (size * 7) % 4096 || 1) chunks.push(text.slice(at, at + size));
    expect(ours(chunks)).toEqual([['big', big]]);
  });
});
