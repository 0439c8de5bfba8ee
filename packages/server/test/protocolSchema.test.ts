import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLOSE_CODES, ERROR_CODES, decodeClientFrame, decodeServerFrame } from '@tidewire/core/protocol';
import { clientFrame, parseClientFrame, serverFrame } from '../src/protocolSchema';

/**
 * The client ships a small hand-written validator (core's codec.ts); the server validates with
 * zod. Both must accept exactly the same frames, or a frame one side sends is refused by the other.
 */

const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];

const count = fc.oneof(fc.nat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
const str = fc.string({ maxLength: 12 });
const position = fc.record({ epoch: str, offset: count });
const member = fc.record({ clientId: str, user: fc.jsonValue({ maxDepth: 2 }), info: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: ['clientId', 'user'] });
/** Values of every JSON kind, including ones that are wrong for most fields. */
const anyJson = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(-1, 1.5, 2 ** 60, -0, '', null, true, [], {}, ...PROTOTYPE_NAMES),
);

type Fields = Record<string, fc.Arbitrary<unknown>>;
/** Required fields, then optional ones, per frame type. */
const CLIENT: Record<string, [Fields, Fields]> = {
  connect: [{ v: count }, { token: str }],
  subscribe: [{ id: str, channel: str }, { since: position, recent: count }],
  unsubscribe: [{ channel: str }, {}],
  publish: [{ id: str, channel: str, data: fc.jsonValue({ maxDepth: 3 }) }, {}],
  refresh: [{ id: str, token: str }, {}],
  presence_subscribe: [{ id: str, channel: str }, {}],
  presence_unsubscribe: [{ channel: str }, {}],
  enter: [{ id: str, channel: str }, { info: fc.jsonValue({ maxDepth: 2 }) }],
  leave: [{ channel: str }, {}],
  history: [{ id: str, channel: str, limit: count }, { before: count, after: count, direction: fc.constantFrom('backward', 'forward') }],
  rpc: [{ id: str, method: str, data: fc.jsonValue({ maxDepth: 3 }) }, {}],
  ping: [{}, {}],
  pong: [{}, {}],
};
const SERVER: Record<string, [Fields, Fields]> = {
  connected: [{ v: count, session: str, heartbeat: count, maxPayload: count }, { expiresIn: count, limits: fc.record({ rate: count, burst: count }), features: fc.array(str, { maxLength: 3 }) }],
  subscribed: [{ id: str, channel: str, epoch: str, offset: count, recovered: fc.boolean() }, {}],
  unsubscribed: [{ channel: str, code: fc.constantFrom(...ERROR_CODES), message: str }, {}],
  message: [{ channel: str, epoch: str, offset: count, id: str, data: fc.jsonValue({ maxDepth: 3 }) }, { skip: fc.constant(true) }],
  ack: [{ id: str, epoch: str, offset: count }, {}],
  refreshed: [{ id: str }, { expiresIn: count }],
  error: [{ code: fc.constantFrom(...ERROR_CODES), message: str }, { id: str, retryAfter: count, appCode: str }],
  result: [{ id: str, data: fc.jsonValue({ maxDepth: 3 }) }, {}],
  presence_snapshot: [{ id: str, channel: str, members: fc.array(member, { maxLength: 3 }) }, {}],
  presence_change: [{ channel: str, action: fc.constantFrom('join', 'leave'), member }, {}],
  presence_unsubscribed: [{ channel: str, code: fc.constantFrom(...ERROR_CODES), message: str }, {}],
  left: [{ channel: str, code: fc.constantFrom(...ERROR_CODES), message: str }, {}],
  entered: [{ id: str, channel: str }, {}],
  history_page: [
    { id: str, channel: str, epoch: str, head: count, messages: fc.array(fc.record({ offset: count, id: str, data: fc.jsonValue({ maxDepth: 2 }) }), { maxLength: 3 }), more: fc.boolean() },
    {},
  ],
  close: [{ code: fc.constantFrom(...CLOSE_CODES), message: str }, { retryAfter: count }],
  ping: [{}, {}],
  pong: [{}, {}],
};

function validFrames(table: Record<string, [Fields, Fields]>): fc.Arbitrary<Record<string, unknown>> {
  return fc.oneof(
    ...Object.entries(table).map(([type, [required, optional]]) =>
      fc.record({ type: fc.constant(type), ...required, ...optional }, { requiredKeys: ['type', ...Object.keys(required)] as ['type'] }),
    ),
  );
}

/** A valid frame broken in one way: a field dropped, a field of the wrong kind, an unknown or prototype type, an extra field. */
function mutatedFrames(table: Record<string, [Fields, Fields]>): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.tuple(validFrames(table), fc.nat(), anyJson).map(([frame, pick, value]) => {
      const keys = Object.keys(frame);
      return { ...frame, [keys[pick % keys.length]!]: value };
    }),
    fc.tuple(validFrames(table), fc.nat()).map(([frame, pick]) => {
      const keys = Object.keys(frame);
      const copy = { ...frame };
      delete copy[keys[pick % keys.length]!];
      return copy;
    }),
    fc.tuple(validFrames(table), fc.constantFrom(...PROTOTYPE_NAMES, 'message', 'connect', 'nope')).map(([frame, type]) => ({ ...frame, type })),
    fc.tuple(validFrames(table), str, anyJson).map(([frame, key, value]) => ({ ...frame, [key]: value })),
    anyJson,
  );
}

const RUNS = { numRuns: 4000 };

describe('the client validator and the zod schemas accept exactly the same frames', () => {
  for (const [side, table, decode, schema] of [
    ['client → server', CLIENT, decodeClientFrame, clientFrame],
    ['server → client', SERVER, decodeServerFrame, serverFrame],
  ] as const) {
    it(`${side}: every valid frame passes both`, () => {
      fc.assert(
        fc.property(validFrames(table), (frame) => {
          const text = JSON.stringify(frame);
          expect(schema.safeParse(JSON.parse(text)).success).toBe(true);
          expect(decode(text).ok).toBe(true);
        }),
        RUNS,
      );
    });

    it(`${side}: on broken frames the two agree, both ways`, () => {
      let refused = 0;
      fc.assert(
        fc.property(mutatedFrames(table), (value) => {
          const text = JSON.stringify(value) ?? 'null';
          const byZod = schema.safeParse(JSON.parse(text)).success;
          if (!byZod) refused++;
          expect(decode(text).ok).toBe(byZod);
        }),
        RUNS,
      );
      expect(refused).toBeGreaterThan(RUNS.numRuns / 4); // the generator really produces invalid frames
    });
  }

  it('a frame whose type names an Object.prototype member is unknown to both', () => {
    for (const type of PROTOTYPE_NAMES) {
      const text = `{"type":${JSON.stringify(type)},"id":"x","channel":"c"}`;
      expect(decodeClientFrame(text)).toEqual({ ok: false, reason: `unknown frame type ${JSON.stringify(type)}` });
      expect(decodeServerFrame(text).ok).toBe(false);
      expect(parseClientFrame(JSON.parse(text))).toEqual({ ok: false, reason: `unknown frame type ${JSON.stringify(type)}` });
    }
  });

  it('the server acts only on the fields the protocol defines: unknown extra fields are dropped', () => {
    expect(parseClientFrame({ type: 'unsubscribe', channel: 'c', id: 5, __proto__x: 1 })).toEqual({ ok: true, frame: { type: 'unsubscribe', channel: 'c' } });
  });

  it("the server's reason names the exact path that failed", () => {
    expect(parseClientFrame({ type: 'subscribe', id: 's', channel: 'c', since: { epoch: 'e', offset: -1 } })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^frame "subscribe": since\.offset: /),
    });
    expect(parseClientFrame({ type: 'publish', id: 'p', channel: 'c' })).toEqual({ ok: false, reason: expect.stringMatching(/^frame "publish": data: /) });
    expect(parseClientFrame([])).toEqual({ ok: false, reason: 'frame is not a JSON object' });
  });
});

describe('the message frame (the client checks it on a path of its own: codec.ts isMessage)', () => {
  const valid = { type: 'message', channel: 'c', epoch: 'e', offset: 3, id: 'm', data: { a: 1 } };
  const cases: [string, Record<string, unknown>][] = [
    ['valid', valid],
    ['valid, skip: true', { ...valid, skip: true }],
    ['valid, data null', { ...valid, data: null }],
    ['skip: false', { ...valid, skip: false }],
    ['skip: 1', { ...valid, skip: 1 }],
    ['no data', { ...valid, data: undefined }],
    ['offset -1', { ...valid, offset: -1 }],
    ['offset 1.5', { ...valid, offset: 1.5 }],
    ['offset "3"', { ...valid, offset: '3' }],
    ['offset 2^53', { ...valid, offset: 2 ** 53 }],
    ['channel 1', { ...valid, channel: 1 }],
    ['no epoch', { ...valid, epoch: undefined }],
    ['id null', { ...valid, id: null }],
  ];
  it.each(cases)('%s: the client and the zod schema agree', (_name, frame) => {
    const text = JSON.stringify(frame);
    expect(decodeServerFrame(text).ok).toBe(serverFrame.safeParse(JSON.parse(text)).success);
  });
});
