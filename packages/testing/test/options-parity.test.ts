import { describe, expect, it } from 'vitest';
import { MemoryBroker, createServer } from '@tidewire/server';
import { createTestKit } from '../src/index';

/**
 * `createTestKit` throws `invalid_options` where `createServer` would (its docs), though it builds
 * the memory broker itself: a suite green on the kit must not meet a server that refuses to start,
 * nor run on defaults (a misspelt key) or a broken history ring (a negative size) in its place.
 * `new MemoryBroker(options)`, public too, checks the same rules.
 */
const refused: [what: string, options: Parameters<typeof createServer>[0]][] = [
  ['a misspelt history key', { history: { sise: 10 } as never }],
  ['a negative history size', { history: { size: -1 } }],
  ['a dedupe window of 0 ms', { dedupe: { window: 0 } }],
];

describe('options createServer refuses', () => {
  it.each(refused)('%s: createServer, createTestKit and new MemoryBroker all throw invalid_options', (_what, options) => {
    expect(() => createServer(options)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(() => createTestKit(options)).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    const { history, dedupe } = options!;
    expect(() => new MemoryBroker({ history, dedupe })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
  });

  it('history beside an own broker: createServer and createTestKit throw invalid_options', async () => {
    const broker = new MemoryBroker();
    expect(() => createServer({ broker, history: { size: 10 } })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    expect(() => createTestKit({ broker, history: { size: 10 } })).toThrow(expect.objectContaining({ code: 'invalid_options' }));
    await broker.close();
  });

  it('valid options still build a kit whose history honours them', async () => {
    const kit = createTestKit({ history: { size: 2 } });
    const client = kit.client();
    for (let i = 1; i <= 5; i++) await client.channel('c').publish(i);
    const page = await client.channel('c').history({ direction: 'forward' });
    expect(page.messages.map((m) => [m.offset, m.data])).toEqual([
      [4, 4],
      [5, 5],
    ]);
    await kit.close();
  });
});
