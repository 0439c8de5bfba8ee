import fc from 'fast-check';

/**
 * Frame generators for the fuzz suites, both directions. Each generated item says whether the
 * protocol *requires* the receiver to refuse it (`invalid: true`: not JSON, not an object, an
 * unknown or `Object.prototype`-named type, a required field missing or of the wrong type, too
 * deep, binary). Items with `invalid: false` are valid but hostile or odd (unknown channels, stray
 * acks, extra keys, duplicates): the receiver may do anything the spec allows, except break.
 */
export interface FuzzItem {
  /** Text frame, or bytes for frames that cannot be a JS string (binary, invalid UTF-8). */
  readonly payload: string | Uint8Array;
  /** Sent as a binary WebSocket message (only meaningful on WebSocket). */
  readonly binary?: boolean;
  readonly invalid: boolean;
  /** Short label for reports: which generator made it. */
  readonly kind: string;
}

/** Names every JS object answers to: a frame type (or key) named so must never pass as real. */
export const PROTOTYPE_NAMES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'toLocaleString'] as const;

const json = (value: unknown) => JSON.stringify(value);
const item = (kind: string, invalid: boolean) => (payload: string) => ({ payload, invalid, kind }) satisfies FuzzItem;

/** JSON nested `depth` levels deep (arrays or objects), built iteratively so no generator recursion is involved. */
export function deeplyNested(depth: number, objects: boolean): string {
  return objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth);
}

/** Any text at all; almost never a frame, so counted as invalid (an accidental valid frame is filtered out by the caller's type set). */
const randomText = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 50 }));

/** JSON that is not an object: numbers, strings, arrays, null. */
const nonObjectJson = fc.oneof(fc.double(), fc.string(), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }), fc.constant(null), fc.boolean()).map(json);

/** An object whose `type` is not a frame type (random, absent, a prototype name, or not a string). */
const wrongType = (types: readonly string[]) =>
  fc
    .record({
      type: fc.oneof(
        fc.string({ maxLength: 20 }).filter((t) => !types.includes(t)),
        fc.constantFrom(...PROTOTYPE_NAMES),
        fc.constantFrom(...types.map((t) => t.toUpperCase()), ...types.map((t) => ` ${t}`)),
        fc.integer(),
        fc.constant(null),
      ),
      rest: fc.dictionary(fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom(...PROTOTYPE_NAMES)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    })
    .map(({ type, rest }) => `{"type":${json(type)}${Object.entries(rest).map(([k, v]) => `,${json(k)}:${json(v)}`).join('')}}`)
    .filter((text) => !looksLikeFrame(text, types)); // a random key "type" could have made it a frame again

/**
 * A valid frame with one required field removed or given a value of the wrong kind. Fields that
 * are optional in the spec are left alone, so every mutation here is a frame the receiver must refuse.
 */
function brokenField(valid: readonly Record<string, unknown>[], required: Readonly<Record<string, readonly string[]>>) {
  const badValues = fc.oneof(fc.constant(null), fc.constant(-1), fc.constant(1.5), fc.constant('7'), fc.constant([]), fc.constant({}), fc.constant(true), fc.constant(Number.MAX_SAFE_INTEGER + 2));
  return fc.tuple(fc.constantFrom(...valid), fc.nat(), badValues, fc.boolean()).map(([frame, pick, bad, remove]) => {
    const fields = required[frame.type as string] ?? [];
    if (fields.length === 0) return { ...frame, type: `${String(frame.type)}!` }; // no required field: break the type instead
    const field = fields[pick % fields.length]!;
    const copy: Record<string, unknown> = { ...frame };
    if (remove || field === 'data') delete copy[field]; // `data` may hold any JSON value: only its absence is wrong
    else copy[field] = wrongKindFor(frame[field], bad);
    return copy;
  });
}

/** A value that is not of the same JSON kind as `original` (so the field check must fail). */
function wrongKindFor(original: unknown, bad: unknown): unknown {
  if (typeof original === 'string') return typeof bad === 'string' ? 7 : bad;
  if (typeof original === 'number') return typeof bad === 'number' && (bad < 0 || !Number.isSafeInteger(bad)) ? bad : 'x';
  if (typeof original === 'boolean') return typeof bad === 'boolean' ? 'true' : bad;
  return 'not an object';
}

/** Refused-by-spec items common to both directions. */
function invalidItems(types: readonly string[], valid: readonly Record<string, unknown>[], required: Readonly<Record<string, readonly string[]>>) {
  return fc.oneof(
    { weight: 3, arbitrary: randomText.filter((t) => !looksLikeFrame(t, types)).map(item('random text', true)) },
    { weight: 2, arbitrary: nonObjectJson.map(item('non-object JSON', true)) },
    { weight: 3, arbitrary: wrongType(types).map(item('wrong or prototype-named type', true)) },
    { weight: 4, arbitrary: brokenField(valid, required).map((f) => item('broken required field', true)(json(f))) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 2_000, max: 20_000 }), fc.boolean()).map(([depth, objects]) => item('deeply nested', true)(deeplyNested(depth, objects))) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES).map((name) => item('prototype-named type', true)(json({ type: name }))) },
  );
}

function looksLikeFrame(text: string, types: readonly string[]): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && types.includes((value as { type?: unknown }).type as string);
  } catch {
    return false;
  }
}

// ── client → server ─────────────────────────────────────────────────────────

export const CLIENT_TYPES = ['connect', 'subscribe', 'unsubscribe', 'publish', 'refresh', 'ping', 'pong'] as const;
const CLIENT_REQUIRED: Record<string, readonly string[]> = {
  connect: ['v'],
  subscribe: ['id', 'channel'],
  unsubscribe: ['channel'],
  publish: ['id', 'channel', 'data'],
  refresh: ['id', 'token'],
};

const fuzzChannel = fc.oneof(fc.constantFrom('fuzz:a', 'fuzz:b', ...PROTOTYPE_NAMES), fc.string({ minLength: 1, maxLength: 30 }));
const validClientFrame = fc.oneof(
  fc.record({ type: fc.constant('subscribe'), id: fc.string({ minLength: 1, maxLength: 20 }), channel: fuzzChannel }),
  fc.record({ type: fc.constant('unsubscribe'), channel: fuzzChannel }),
  fc.record({ type: fc.constant('publish'), id: fc.string({ minLength: 1, maxLength: 20 }), channel: fuzzChannel, data: fc.jsonValue({ maxDepth: 4 }) }),
  fc.record({ type: fc.constant('ping') }),
  fc.record({ type: fc.constant('pong') }),
);
// Ids no random valid item can carry (those are at most 20 characters from fc.string, or `k-…`),
// so an error naming one of them is attributable to a broken item.
const clientTemplates: Record<string, unknown>[] = [
  { type: 'connect', v: 1 },
  { type: 'subscribe', id: 'broken-subscribe-000001', channel: 'fuzz:a' },
  { type: 'unsubscribe', channel: 'fuzz:a' },
  { type: 'publish', id: 'broken-publish-00000001', channel: 'fuzz:a', data: { n: 1 } },
  { type: 'refresh', id: 'broken-refresh-00000001', token: 't' },
];

/**
 * Client → server items: refused-by-spec frames, valid but hostile ones (publishes with
 * prototype-named keys, channels named `__proto__`), oversized ones (past `maxPayload`),
 * with `bytes` binary messages and bodies/frames that are not UTF-8, and with `httpBodies`
 * POST bodies that are not a JSON array of frame texts.
 */
export function clientFuzzItem(options: { bytes: boolean; maxPayload: number; httpBodies?: boolean }): fc.Arbitrary<FuzzItem> {
  const variants: fc.WeightedArbitrary<FuzzItem>[] = [
    { weight: 10, arbitrary: invalidItems(CLIENT_TYPES, clientTemplates, CLIENT_REQUIRED) },
    { weight: 6, arbitrary: validClientFrame.map((f) => item('valid, hostile', false)(json(f))) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...PROTOTYPE_NAMES).map((key) => item('publish with prototype-named keys', false)(`{"type":"publish","id":"k-${key}","channel":"fuzz:b","data":{${json(key)}:{"polluted":true}}}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 200, max: 5_000 }), fc.boolean())
        .map(([depth, objects]) => item('publish nested too deep', true)(`{"type":"publish","id":"broken-too-deep-0000001","channel":"fuzz:a","data":${deeplyNested(depth, objects)}}`)),
    },
    { weight: 1, arbitrary: fc.constant(null).map(() => item('oversized', true)(json({ type: 'publish', id: 'broken-oversized-000001', channel: 'fuzz:a', data: 'x'.repeat(options.maxPayload + 1) }))) },
  ];
  if (options.bytes) {
    variants.push(
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((payload) => ({ payload, binary: true, invalid: true, kind: 'binary' })) },
      { weight: 1, arbitrary: fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]).map((bytes) => ({ payload: Uint8Array.from([0x7b, ...bytes, 0x7d]), invalid: true, kind: 'non-UTF-8 text' })) },
    );
  }
  if (options.httpBodies) {
    // Whole POST bodies that are not a JSON array of frame texts (HTTP transports only).
    const bodies = fc.constantFrom('{"type":"ping"}', '[1,{"type":"ping"}]', '"[]"', 'null', '[[]]', '[{"type":"ping"},"{\\"type\\":\\"ping\\"}"]');
    variants.push({ weight: 1, arbitrary: bodies.map((body) => ({ payload: new TextEncoder().encode(body), invalid: true, kind: 'POST body not an array of frame texts' })) });
  }
  return fc.oneof(...variants);
}

// ── server → client ─────────────────────────────────────────────────────────

export const SERVER_TYPES = ['connected', 'subscribed', 'unsubscribed', 'message', 'ack', 'refreshed', 'error', 'close', 'ping', 'pong'] as const;
const SERVER_REQUIRED: Record<string, readonly string[]> = {
  subscribed: ['id', 'channel', 'epoch', 'offset', 'recovered'],
  message: ['channel', 'epoch', 'offset', 'id'],
  ack: ['id', 'epoch', 'offset'],
  error: ['code', 'message'],
};

/**
 * Server → client items for a client subscribed to `channel` in `epoch`. Invalid ones must be
 * reported as `invalid_frame`; valid odd ones (messages of channels nobody asked for, acks and
 * `subscribed` for unknown ids, pongs) must change nothing the app can see.
 */
export function serverFuzzItem(options: { channel: string; epoch: string; bytes: boolean }): fc.Arbitrary<FuzzItem> {
  const templates: Record<string, unknown>[] = [
    { type: 'message', channel: options.channel, epoch: options.epoch, offset: 1, id: 'm1', data: 1 },
    { type: 'ack', id: 'nobody', epoch: options.epoch, offset: 1 },
    { type: 'error', code: 'bad_request', message: 'x' },
    { type: 'subscribed', id: 'nobody', channel: 'other', epoch: options.epoch, offset: 0, recovered: true },
  ];
  const stray = fc.oneof(
    fc.record({ type: fc.constant('message'), channel: fc.constantFrom('other', ...PROTOTYPE_NAMES), epoch: fc.string(), offset: fc.nat(), id: fc.string(), data: fc.jsonValue({ maxDepth: 3 }) }),
    fc.record({ type: fc.constant('ack'), id: fc.oneof(fc.string(), fc.constantFrom(...PROTOTYPE_NAMES)), epoch: fc.string(), offset: fc.nat() }),
    fc.record({ type: fc.constant('subscribed'), id: fc.constantFrom('nobody', ...PROTOTYPE_NAMES), channel: fc.constantFrom('other', ...PROTOTYPE_NAMES), epoch: fc.string(), offset: fc.nat(), recovered: fc.boolean() }),
    fc.constant({ type: 'pong' }),
  );
  const variants: fc.WeightedArbitrary<FuzzItem>[] = [
    { weight: 10, arbitrary: invalidItems(SERVER_TYPES, templates, SERVER_REQUIRED) },
    { weight: 4, arbitrary: stray.map((f) => item('valid, stray', false)(json(f))) },
  ];
  if (options.bytes) variants.push({ weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }).map((payload) => ({ payload, binary: true, invalid: true, kind: 'binary' })) });
  return fc.oneof(...variants);
}

/** Seed for the fuzz suites: fixed by env to reproduce a failure, random otherwise, and always printed. */
export function fuzzSeed(): number {
  const fromEnv = process.env.TIDEWIRE_FUZZ_SEED;
  return fromEnv !== undefined ? Number(fromEnv) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
}

/** How many frames each fuzz direction sends in total (the suite's bounded run; `scripts/fuzz.mjs` raises it). */
export const fuzzFrames = (): number => Number(process.env.TIDEWIRE_FUZZ_FRAMES ?? 10_000);

/** `count` items from `arb`, reproducibly from `seed`. */
export const sampleItems = (arb: fc.Arbitrary<FuzzItem>, seed: number, count: number): FuzzItem[] => fc.sample(arb, { seed, numRuns: count });
