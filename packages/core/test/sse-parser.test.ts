import { describe, expect, it } from 'vitest';
import { sseParser } from '../src/transports/sse-parser';

/** Feed the chunks as given and collect the events as `type:data`. */
function parse(...chunks: string[]): string[] {
  const events: string[] = [];
  const feed = sseParser((type, data) => events.push(`${type}:${data}`));
  for (const chunk of chunks) feed(chunk);
  return events;
}

describe('sse parser', () => {
  it('dispatches on a blank line, with type `message` unless an `event` field names one', () => {
    expect(parse('data: a\n\n')).toEqual(['message:a']);
    expect(parse('event: open\ndata: b\n\n')).toEqual(['open:b']);
    expect(parse('data: a\n')).toEqual([]); // not ended by a blank line yet
  });

  it('resets the event type after each event', () => {
    expect(parse('event: open\ndata: a\n\ndata: b\n\n')).toEqual(['open:a', 'message:b']);
  });

  it('joins multi-line data with \\n', () => {
    expect(parse('data: one\ndata: two\ndata: three\n\n')).toEqual(['message:one\ntwo\nthree']);
  });

  it('accepts LF, CRLF and CR line endings, mixed', () => {
    expect(parse('data: lf\n\n', 'data: crlf\r\n\r\n', 'data: cr\r\r', 'data: a\r\ndata: b\rdata: c\n\n')).toEqual([
      'message:lf',
      'message:crlf',
      'message:cr',
      'message:a\nb\nc',
    ]);
  });

  it('treats a CR ending one chunk and a LF opening the next as one line ending', () => {
    expect(parse('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual(['message:a\nb']);
    // A lone CR at a chunk end is a line ending on its own: the next chunk is a new line.
    expect(parse('data: a\r', 'data: b\r\r')).toEqual(['message:a\nb']);
  });

  it('reassembles lines split anywhere across chunks', () => {
    expect(parse('da', 'ta: {"sid"', ':"s1"}', '\n', '\n')).toEqual(['message:{"sid":"s1"}']);
    expect(parse('event: op', 'en\ndata: x\n\nda', 'ta: y\n\n')).toEqual(['open:x', 'message:y']);
  });

  it('skips comments', () => {
    expect(parse(': keep-alive\n\n', ':\n', 'data: a\n: in the middle\ndata: b\n\n')).toEqual(['message:a\nb']);
  });

  it('strips exactly one space after the colon', () => {
    expect(parse('data:tight\n\n', 'data:  two spaces\n\n', 'data: \tkeeps the tab\n\n')).toEqual([
      'message:tight',
      'message: two spaces',
      'message:\tkeeps the tab',
    ]);
  });

  it('keeps colons inside the value', () => {
    expect(parse('data: {"a":"b:c"}\n\n')).toEqual(['message:{"a":"b:c"}']);
  });

  it('reads a field without a colon as the whole line with an empty value', () => {
    expect(parse('data\ndata\n\n')).toEqual(['message:\n']);
    expect(parse('event\ndata: x\n\n')).toEqual(['message:x']);
  });

  it('does not dispatch an event without data lines, and forgets its type', () => {
    expect(parse('event: open\n\n', '\n\n', 'data: a\n\n')).toEqual(['message:a']);
  });

  it('dispatches an empty `data:` line as empty data', () => {
    expect(parse('data:\n\n')).toEqual(['message:']);
  });

  it('ignores `id`, `retry` and unknown fields safely', () => {
    expect(parse('id: 7\nretry: 1000\nfoo: bar\ndata: a\n\n', 'id\nretry: x\n\n')).toEqual(['message:a']);
  });

  it('skips one leading byte order mark, only at the start of the stream', () => {
    expect(parse('\uFEFFdata: a\n\n')).toEqual(['message:a']);
    expect(parse('\uFEFF', 'data: a\n\n')).toEqual(['message:a']);
    // Later, U+FEFF is just a character (here it makes the field name unknown).
    expect(parse('data: a\n\n', '\uFEFFdata: b\n\n')).toEqual(['message:a']);
    expect(parse('data: \uFEFF\n\n')).toEqual(['message:\uFEFF']);
  });

  it('drops an unfinished event when nothing more comes', () => {
    expect(parse('data: a\n\ndata: b\n')).toEqual(['message:a']);
  });
});
