import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createClient, type ChannelMessage, type GapInfo, type TidewireError } from '@tidewire/core';
import { injectedWebSocket } from './helpers/env';
import { EPOCH, STREAM, startGarbageServer } from './helpers/fuzz-fake-server';
import { fuzzFrames, fuzzSeed, sampleItems, serverFuzzItem } from './helpers/fuzz-frames';
import { until } from './helpers/servers';
import { allTransports } from './helpers/transports';

// Server → client fuzzing: a fake "garbage-speaking" server on loopback streams real messages
// interleaved with random and mutated frames (and binary messages, unknown SSE events, broken
// long-poll batches) to the real client. The client must never throw into the app, report each
// refused frame as `invalid_frame` on `client.on('error')`, deliver every real message once and
// in order, and settle every publish exactly once. Rerun a failure with TIDEWIRE_FUZZ_SEED=<seed>.

const transports = allTransports;
const framesPerTransport = Math.ceil(fuzzFrames() / transports.length);
/** Items written before waiting for the client to catch up (bounds what is in flight). */
const CHUNK = 50;

describe.each(transports)('fuzz: garbage-speaking server → real client over %s', (name, transport) => {
  it(`reports every refused frame, delivers every real message once in order, settles every publish once (${framesPerTransport} frames)`, { timeout: 600_000 }, async () => {
    const seed = fuzzSeed();
    console.log(`[fuzz] server→client over ${name}: ${framesPerTransport} frames, seed ${seed} (TIDEWIRE_FUZZ_SEED=${seed} reproduces)`);
    await using server = await startGarbageServer(name as 'websocket' | 'sse' | 'longpoll');
    const client = createClient({ url: server.url, WebSocket: injectedWebSocket, transports: [transport()], backoff: () => 20 });
    const errors: TidewireError[] = [];
    client.on('error', (e) => errors.push(e));
    const values: number[] = [];
    const gaps: GapInfo[] = [];
    const channel = client.channel(STREAM);
    channel.on('message', (m: ChannelMessage) => values.push(m.data as number));
    channel.on('gap', (g) => gaps.push(g));
    try {
      await until(() => server.ready, 'the client subscribed to the fake server', 15_000);

      // What the server writes: per step, a real message, a duplicate of an earlier one, or a fuzz item.
      const items = sampleItems(serverFuzzItem({ channel: STREAM, epoch: EPOCH, bytes: true }), seed, framesPerTransport);
      const steps = fc.sample(fc.constantFrom('message', 'message', 'duplicate', 'garbage', 'garbage', 'garbage'), { seed, numRuns: framesPerTransport * 2 });
      const publishes: { settled: number; ok: boolean }[] = [];
      let next = 0;
      for (const [i, step] of steps.entries()) {
        if (next >= items.length) break;
        if (step === 'message') server.message();
        else if (step === 'duplicate') server.duplicate(1 + (i % Math.max(1, server.emitted)));
        else server.garbage(items[next++]!);
        if (i % 25 === 0) {
          const record = { settled: 0, ok: false };
          publishes.push(record);
          client.publish('fuzz:pub', i).then(
            () => ((record.settled += 1), (record.ok = true)),
            () => (record.settled += 1),
          );
        }
        if (i % CHUNK === CHUNK - 1) await until(() => values.length >= server.emitted, `the client caught up with ${server.emitted} (has ${values.length})`, 30_000);
      }
      await until(() => values.length >= server.emitted, `all ${server.emitted} real messages (have ${values.length})`, 30_000);
      await until(() => publishes.every((p) => p.settled > 0), 'every publish settled', 30_000);
      await until(() => countInvalid(errors) >= server.tally.invalid, `invalid_frame reports (${countInvalid(errors)} of ${server.tally.invalid})`, 15_000);

      console.log(
        `[fuzz] server→client over ${name}: ${next} fuzz items (${server.tally.invalid} refused by spec, ${server.tally.stray} stray), ${server.emitted} real messages, ${publishes.length} publishes, ${server.tally.lines} lines, errors ${JSON.stringify(tallyCodes(errors))}`,
      );
      expect(gaps).toEqual([]);
      expect(values).toEqual(Array.from({ length: server.emitted }, (_, i) => i + 1));
      expect(publishes.filter((p) => p.settled !== 1)).toEqual([]);
      expect(publishes.every((p) => p.ok)).toBe(true);
      // One report per refused frame while the line stayed up (a new line would resend nothing the fake tallies twice).
      expect(server.tally.lines).toBe(1);
      expect(countInvalid(errors)).toBe(server.tally.invalid);
      expect(client.getSnapshot().state).toBe('connected');
    } finally {
      client.close();
    }
  });
});

const countInvalid = (errors: readonly TidewireError[]) => errors.filter((e) => e.code === 'invalid_frame').length;
function tallyCodes(errors: readonly TidewireError[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of errors) counts[e.code] = (counts[e.code] ?? 0) + 1;
  return counts;
}
