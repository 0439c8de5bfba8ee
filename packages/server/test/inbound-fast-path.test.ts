import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fewerOpenersThan, jsonTextNestsTooDeep, jsonTextTooDeep } from '../src/depth';
import { decodeInbound, plainPublish } from '../src/inboundFrame';
import { parseClientFrame } from '../src/protocolSchema';

/**
 * The server checks the hot `publish` frame by hand (inboundFrame.ts `plainPublish`) and leaves every
 * other frame to the zod schema. These properties prove the shortcut never changes a verdict: whatever
 * it accepts, the schema accepts with the same frame, and every publish the schema accepts, it accepts.
 */

const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];
/** Values of every JSON kind, including ones wrong for every publish field. */
const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(-1, 1.5, '', null, true, [], {}, 'publish', ...PROTOTYPE_NAMES));
/** Objects shaped like a publish, with each field present or not, right or wrong, plus extra fields. */
const publishLike = fc
  .record(
    {
      type: fc.oneof(fc.constant('publish'), fc.constant('publish'), anyJson),
      id: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      channel: fc.oneof(fc.string({ maxLength: 12 }), anyJson),
      data: anyJson,
      extra: anyJson,
    },
    { requiredKeys: [] },
  )
  .map((frame) => JSON.parse(JSON.stringify(frame)) as unknown); // as the server sees it: out of JSON.parse
/** Frame texts: publish-like objects, any JSON, and the prototype-named keys JSON.parse makes own properties of. */
const frameText = fc.oneof(
  publishLike.map((v) => JSON.stringify(v)),
  anyJson.map((v) => JSON.stringify(v)),
  fc.constantFrom('{"type":"publish","id":"a","channel":"c","data":1,"__proto__":{"x":1}}', '{"__proto__":{"type":"publish","id":"a","channel":"c","data":1}}'),
);

const LIMITS = { maxDepth: 64, maxIdLength: 64 };

describe('the publish fast path (inboundFrame.ts plainPublish)', () => {
  it('accepts only what the zod schema accepts, with the same frame', () => {
    fc.assert(
      fc.property(publishLike, (value) => {
        const fast = plainPublish(value);
        const zod = parseClientFrame(value);
        if (fast) expect(zod).toEqual(fast);
        // Every publish the schema accepts takes the fast path (it is the hot path, not a lucky one).
        if (zod.ok && zod.frame.type === 'publish') expect(fast).toEqual(zod);
      }),
      { numRuns: 2000 },
    );
  });

  it('gives decodeInbound the same answer as the schema alone, for any frame text', () => {
    fc.assert(
      fc.property(frameText, (text) => {
        const viaSchema = jsonTextTooDeep(text, LIMITS.maxDepth) ? 'too deep' : parseClientFrame(JSON.parse(text));
        const decoded = decodeInbound(text, LIMITS);
        if (viaSchema === 'too deep') return expect(decoded.ok).toBe(false);
        if (viaSchema.ok && 'id' in viaSchema.frame && viaSchema.frame.id.length > LIMITS.maxIdLength) return expect(decoded.ok).toBe(false);
        expect(decoded).toEqual(viaSchema);
      }),
      { numRuns: 2000 },
    );
  });

  it('drops fields the protocol does not define, as the schema does', () => {
    const decoded = decodeInbound('{"type":"publish","id":"p1","channel":"c","data":{"a":1},"offset":7,"since":{}}', LIMITS);
    expect(decoded).toEqual({ ok: true, frame: { type: 'publish', id: 'p1', channel: 'c', data: { a: 1 } } });
  });

  it('leaves a publish without data, or with a number id, to the schema and its reason', () => {
    expect(decodeInbound('{"type":"publish","id":"p1","channel":"c"}', LIMITS)).toEqual({ ok: false, reason: 'frame "publish": data: Invalid input: expected a JSON value' });
    const wrongId = decodeInbound('{"type":"publish","id":5,"channel":"c","data":1}', LIMITS);
    expect(wrongId.ok).toBe(false);
    expect(!wrongId.ok && wrongId.reason).toMatch(/^frame "publish": id: /);
  });
});

describe('the depth pre-check (depth.ts fewerOpenersThan)', () => {
  const nested = fc.jsonValue({ maxDepth: 8 }).map((v) => JSON.stringify(v));

  it('agrees with the exact scan for every JSON text and limit', () => {
    fc.assert(
      fc.property(nested, fc.integer({ min: 0, max: 10 }), (text, max) => {
        expect(jsonTextNestsTooDeep(text, max)).toBe(jsonTextTooDeep(text, max));
        // When it says "certainly not too deep", the exact scan agrees.
        if (fewerOpenersThan(text, max)) expect(jsonTextTooDeep(text, max)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('still refuses a frame nested one level too deep, with brackets in strings not counted', () => {
    const deep = (levels: number): string => '['.repeat(levels) + '"[[[["' + ']'.repeat(levels);
    const frame = (levels: number): string => `{"type":"publish","id":"p","channel":"c","data":${deep(levels - 1)}}`;
    expect(decodeInbound(frame(64), LIMITS).ok).toBe(true);
    expect(decodeInbound(frame(65), LIMITS)).toEqual({ ok: false, reason: 'frame nests deeper than maxDepth (64 levels)' });
  });
});
