import { describe, expect, it } from 'vitest';
import type { ChannelMessage, GapInfo } from '@tidewire/core';
import { PROTOTYPE_NAMES, clientFuzzItem, fuzzFrames, fuzzSeed, sampleItems, type FuzzItem } from './helpers/fuzz-frames';
import { openRawHttp, openRawWebSocket, type RawLine } from './helpers/fuzz-raw-line';
import { startServer, until } from './helpers/servers';
import { allTransports } from './helpers/transports';

// Client → server fuzzing against the real server, over each transport: random, mutated-valid,
// oversized, deeply nested, prototype-named, binary and non-UTF-8 frames from a raw connection.
// The server must answer every frame the spec refuses with an `error` (or end the line with a
// spec `close` frame), never crash, and keep serving a well-behaved client on the same server.
// The seed is printed; rerun a failure with TIDEWIRE_FUZZ_SEED=<seed>. `pnpm fuzz` runs 100k+.

const MAX_PAYLOAD = 64 * 1024;
/** Items sent before waiting for the server's answers. */
const BATCH = 8;
const transports = allTransports;
const framesPerTransport = Math.ceil(fuzzFrames() / transports.length);

/** The request id a text item carries, if it parses as an object with a string id. */
function idOf(item: FuzzItem): string | undefined {
  try {
    const id: unknown = typeof item.payload === 'string' ? (JSON.parse(item.payload) as { id?: unknown }).id : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Short, printable description of what came back. */
const preview = (frames: readonly unknown[]) => JSON.stringify(frames).slice(0, 300);

describe.each(transports)('fuzz: raw client → real server over %s', (name, transport) => {
  it(`answers every refused frame, never crashes, and a well-behaved client misses nothing (${framesPerTransport} frames)`, { timeout: 600_000 }, async () => {
    const seed = fuzzSeed();
    console.log(`[fuzz] client→server over ${name}: ${framesPerTransport} frames, seed ${seed} (TIDEWIRE_FUZZ_SEED=${seed} reproduces)`);
    const serverErrors: unknown[] = [];
    await using t = await startServer(
      // Rate limits out of the way: this is about what frames contain, not how many there are.
      { logger: { warn: () => {}, error: (...args: unknown[]) => void serverErrors.push(args) }, limits: { rate: { perSecond: 1_000_000, burst: 1_000_000 } } },
      { transports: [transport()] },
    );
    const open = (): Promise<RawLine> => (name === 'websocket' ? openRawWebSocket(t.url) : openRawHttp(t.url, transport()));

    // The bystander: subscribed on the same server for the whole run.
    const watcher = t.client();
    const watched = watcher.channel('fuzz:watch');
    const values: unknown[] = [];
    const gaps: GapInfo[] = [];
    watched.on('message', (m: ChannelMessage) => values.push(m.data));
    watched.on('gap', (g) => gaps.push(g));
    await until(() => watched.getSnapshot().state === 'subscribed', 'the bystander subscribed', 15_000);

    const items = sampleItems(clientFuzzItem({ bytes: true, maxPayload: MAX_PAYLOAD, httpBodies: name !== 'websocket' }), seed, framesPerTransport);
    const problems: string[] = [];
    const tally = { refused: 0, answered: 0, lines: 1, closes: new Map<string, number>() };
    const ended = (line: RawLine, index: number, kind: string) => {
      const end = line.ended!;
      tally.closes.set(end.code ?? '(none)', (tally.closes.get(end.code ?? '(none)') ?? 0) + 1);
      if (!end.sawCloseFrame) problems.push(`#${index} (${kind}): the line ended without a spec close frame (${end.detail}); last frames ${preview(line.frames.slice(-3))}`);
    };
    let line = await open();
    if (!line.frames.some((f) => f.type === 'connected')) throw new Error(`the first raw line never connected: ${preview(line.frames)}; ended: ${JSON.stringify(line.ended)}`);
    let published = 0;
    // Pipelined: a batch of items, each followed by a marker request, awaited at the end. The
    // server refuses a frame at once (before queued requests are answered), so refusals are
    // matched by count per batch: every refused-by-spec item must have drawn an `error` that no
    // valid item of the batch (by id) or marker can account for — unless the line ended with a
    // spec `close` frame, which is the other allowed answer.
    for (let first = 0; first < items.length && problems.length < 20; first += BATCH) {
      if (line.ended) {
        line = await open();
        tally.lines++;
        if (!line.frames.some((f) => f.type === 'connected')) problems.push(`#${first}: a new raw line did not connect: ${preview(line.frames)}; ended: ${JSON.stringify(line.ended)}`);
      }
      const batch = items.slice(first, first + BATCH);
      const start = line.frames.length;
      const markers = new Set<string>();
      let last = '';
      for (const item of batch) {
        await line.send(item);
        markers.add((last = line.mark()));
      }
      const answered = await line.waitFor(last);
      const window = line.frames.slice(start);
      if (!answered) {
        if (line.ended) ended(line, first, 'a batch');
        else problems.push(`#${first}…: no answer to the batch within the deadline, and the line is still open`);
        continue;
      }
      const validIds = new Set(batch.flatMap((i) => (i.invalid ? [] : [idOf(i) ?? []].flat())));
      const refusals = window.filter(
        (f) => f.type === 'error' && (f.code === 'bad_request' || f.code === 'too_large') && !markers.has(f.id as string) && !validIds.has(f.id as string),
      );
      const refused = batch.filter((i) => i.invalid);
      tally.refused += refused.length;
      tally.answered += Math.min(refusals.length, refused.length);
      if (refusals.length < refused.length) {
        problems.push(`#${first}…#${first + batch.length - 1}: ${refused.length} refused-by-spec frames drew ${refusals.length} errors: sent ${refused.map((i) => `${i.kind}: ${String(i.payload).slice(0, 60)}`).join(' | ')}; got ${preview(window)}`);
      }
      if (first % (BATCH * 2) === 0) await t.server.publish('fuzz:watch', ++published);
    }
    line.close();

    console.log(
      `[fuzz] client→server over ${name}: ${items.length} frames on ${tally.lines} lines, ${tally.refused} refused by spec (${tally.answered} answered with error), closes ${JSON.stringify([...tally.closes])}, server errors logged ${serverErrors.length}`,
    );
    expect(problems).toEqual([]);
    // The bystander saw every message once, in order, without a gap.
    await until(() => values.length >= published, `the bystander got ${published} (has ${values.length})`, 30_000);
    expect(gaps).toEqual([]);
    expect(values).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    // And the server still serves newcomers: a publish round-trips.
    const late = t.client();
    const ack = await late.channel('fuzz:watch').publish('after the fuzz');
    expect(ack.offset).toBe(published + 1);
    await until(() => values.at(-1) === 'after the fuzz', 'the bystander got the newcomer’s message', 15_000);
    // Channels named like Object.prototype members (the fuzz used them too) are ordinary channels.
    for (const name of PROTOTYPE_NAMES) {
      const channel = late.channel(name);
      const got: unknown[] = [];
      channel.on('message', (m) => got.push(m.data));
      await until(() => channel.getSnapshot().state === 'subscribed', `subscribed to ${name}`, 15_000);
      const { offset } = await channel.publish(`to ${name}`);
      await until(() => got.length > 0, `a message on ${name}`, 15_000);
      expect(got).toEqual([`to ${name}`]);
      expect(offset).toBeGreaterThan(0);
    }
  });
});
