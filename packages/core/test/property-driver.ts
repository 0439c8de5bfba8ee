import fc from 'fast-check';
import { vi } from 'vitest';
import { createClient } from '../src/client';
import type { Channel } from '../src/channel';
import type { GapInfo } from '../src/channel-state';
import type { StateChange } from '../src/connection-state';
import type { TidewireError } from '../src/errors';
import type { PublishResult } from '../src/outbox';
import type { CloseCode, ErrorCode } from '../src/protocol/frames';
import { CLOSE_CODES } from '../src/protocol/frames';
import { fakeTransport } from './fake-transport';
import { ModelServer } from './property-server';

/** Channel names the random schedules use: few, so handles share subscriptions often. */
export const CHANNELS = ['c0', 'c1', 'c2'] as const;
/** The heartbeat the model server announces (ms): short enough that random clock jumps cross it. */
export const HEARTBEAT = 5_000;

/** One step of a random schedule: a transport event, a clock jump, or a call into the public API. */
export type Action =
  | { readonly kind: 'acquire'; readonly channel: number; readonly throws: boolean }
  | { readonly kind: 'release'; readonly handle: number }
  | { readonly kind: 'publish'; readonly handle: number }
  | { readonly kind: 'clientPublish'; readonly channel: number }
  | { readonly kind: 'serverPublish'; readonly channel: number; readonly count: number }
  | { readonly kind: 'open' }
  | { readonly kind: 'serve' }
  | { readonly kind: 'deliver'; readonly count: number; readonly swap: boolean }
  | { readonly kind: 'duplicate'; readonly pick: number }
  | { readonly kind: 'ping' }
  | { readonly kind: 'garbage'; readonly text: string }
  | { readonly kind: 'drop'; readonly code: CloseCode | undefined }
  | { readonly kind: 'restart' }
  | { readonly kind: 'trim'; readonly channel: number; readonly keep: number }
  | { readonly kind: 'refuse'; readonly code: ErrorCode; readonly retryAfter: number | undefined }
  | { readonly kind: 'newEpoch'; readonly channel: number }
  | { readonly kind: 'kick'; readonly channel: number; readonly code: ErrorCode }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'close' }
  | { readonly kind: 'connect' };

const channel = fc.nat({ max: CHANNELS.length - 1 });
const garbageText = fc.oneof(
  fc.string(),
  fc.constantFrom('{"type":"constructor"}', '{"type":"__proto__"}', '{"type":"toString"}', '[]', 'null', '{"type":"message"}', '{'),
);
/** Mostly short steps, sometimes past the publish, subscribe and heartbeat deadlines. */
const clockJump = fc.oneof(fc.nat({ max: 50 }), fc.integer({ min: 100, max: 3_000 }), fc.integer({ min: 5_000, max: 40_000 }));

/** Random actions, weighted so a line usually gets up and traffic flows between the faults. */
export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('acquire' as const), channel, throws: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), handle: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('publish' as const), handle: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clientPublish' as const), channel }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('serverPublish' as const), channel, count: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'open' as const }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'serve' as const }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), count: fc.integer({ min: 1, max: 20 }), swap: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ping' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage' as const), text: garbageText }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), code: fc.option(fc.constantFrom(...CLOSE_CODES), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('trim' as const), channel, keep: fc.nat({ max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: clockJump }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('refuse' as const),
      code: fc.constantFrom<ErrorCode>('rate_limited', 'forbidden', 'bad_request', 'server_error', 'too_large', 'unauthorized'),
      retryAfter: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('newEpoch' as const), channel }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kick' as const), channel, code: fc.constantFrom<ErrorCode>('forbidden', 'server_error') }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'connect' as const }) },
);

/** What one app handle saw, in order. */
export type HandleEvent =
  | { readonly type: 'message'; readonly epoch: string; readonly offset: number; readonly data: unknown }
  | { readonly type: 'gap'; readonly info: GapInfo };

export interface HandleRecord {
  readonly channel: string;
  readonly handle: Channel<unknown>;
  readonly events: HandleEvent[];
  released: boolean;
  /** Events that arrived after `unsubscribe()`: always a violation. */
  afterRelease: number;
}

export interface PublishRecord {
  readonly channel: string;
  readonly data: string;
  settlements: number;
  result?: PublishResult;
  error?: unknown;
}

/** Everything a run observed, for the invariants to judge. */
export interface RunRecord {
  readonly server: ModelServer;
  readonly handles: HandleRecord[];
  readonly publishes: PublishRecord[];
  readonly changes: StateChange[];
  readonly errors: TidewireError[];
  /** Exceptions that escaped from the client into the transport's callbacks (should be none). */
  readonly escaped: unknown[];
  readonly client: ReturnType<typeof createClient>;
}

/** Create a client on a fake transport, with a model server behind it and recorders around it. */
export function startRun(): RunRecord {
  const transport = fakeTransport();
  const server = new ModelServer(transport);
  const client = createClient({
    url: 'ws://model/tw',
    transports: [transport.factory],
    backoff: (attempt) => 10 * attempt,
    reorderWindow: 500,
    publishTimeout: 8_000,
  });
  const run: RunRecord = { server, handles: [], publishes: [], changes: [], errors: [], escaped: [], client };
  client.on('state', (change) => run.changes.push(change));
  client.on('error', (error) => run.errors.push(error));
  return run;
}

let published = 0;

/** Perform one action; exceptions escaping the client into the transport callbacks are recorded. */
export async function perform(run: RunRecord, action: Action): Promise<void> {
  const { client, server } = run;
  const guard = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      run.escaped.push(error);
    }
  };
  switch (action.kind) {
    case 'acquire': {
      const name = CHANNELS[action.channel]!;
      const handle = client.channel(name);
      const record: HandleRecord = { channel: name, handle, events: [], released: false, afterRelease: 0 };
      handle.on('message', (m) => {
        if (record.released) record.afterRelease++;
        record.events.push({ type: 'message', epoch: m.epoch, offset: m.offset, data: m.data });
        // App code that breaks on some messages: the contract says nobody else may notice.
        if (action.throws && m.offset % 3 === 0) throw new Error(`app listener failed on ${m.offset}`);
      });
      handle.on('gap', (info) => {
        if (record.released) record.afterRelease++;
        record.events.push({ type: 'gap', info });
      });
      run.handles.push(record);
      break;
    }
    case 'release': {
      const live = run.handles.filter((h) => !h.released);
      const record = live[action.handle % Math.max(1, live.length)];
      if (record) {
        record.released = true;
        record.handle.unsubscribe();
      }
      break;
    }
    case 'publish':
    case 'clientPublish': {
      const live = run.handles.filter((h) => !h.released);
      const record = action.kind === 'publish' ? live[action.handle % Math.max(1, live.length)] : undefined;
      const name = record?.channel ?? CHANNELS[action.kind === 'clientPublish' ? action.channel : 0]!;
      const publish: PublishRecord = { channel: name, data: `p${++published}`, settlements: 0 };
      run.publishes.push(publish);
      const promise = record ? record.handle.publish(publish.data) : client.publish(name, publish.data);
      promise.then(
        (result) => {
          publish.settlements++;
          publish.result = result;
        },
        (error: unknown) => {
          publish.settlements++;
          publish.error = error;
        },
      );
      break;
    }
    case 'serverPublish':
      for (let i = 0; i < action.count; i++) server.publish(CHANNELS[action.channel]!, `s${++published}`);
      break;
    case 'open':
      guard(() => server.open(HEARTBEAT));
      break;
    case 'serve':
      server.serve();
      break;
    case 'deliver':
      guard(() => server.deliver(action.count, action.swap));
      break;
    case 'duplicate':
      guard(() => server.duplicate(action.pick));
      break;
    case 'ping':
      guard(() => server.garbage('{"type":"ping"}'));
      break;
    case 'garbage':
      guard(() => server.garbage(action.text));
      break;
    case 'drop':
      guard(() => server.drop(action.code));
      break;
    case 'restart':
      guard(() => server.restart());
      break;
    case 'trim':
      server.trim(CHANNELS[action.channel]!, action.keep);
      break;
    case 'refuse':
      server.refuseNext(action.code, action.retryAfter);
      break;
    case 'newEpoch':
      server.newEpoch(CHANNELS[action.channel]!);
      break;
    case 'kick':
      server.kick(CHANNELS[action.channel]!, action.code);
      break;
    case 'advance':
      await vi.advanceTimersByTimeAsync(action.ms);
      break;
    case 'close':
      client.close();
      break;
    case 'connect':
      client.connect();
      break;
  }
  await vi.advanceTimersByTimeAsync(0); // let promise callbacks of this step run
}

/**
 * A healthy network for a while: the line comes up, every request is answered and every frame
 * delivered, pings keep it alive. Used after a random schedule to check that the client recovers.
 */
export async function heal(run: RunRecord, rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const action of [{ kind: 'open' }, { kind: 'serve' }, { kind: 'deliver', count: 10_000, swap: false }, { kind: 'ping' }] as const) {
      await perform(run, action);
    }
    await perform(run, { kind: 'advance', ms: 600 });
  }
}

/** Seed and run count for the property tests: fixed by env for reproduction, random otherwise (fast-check prints it on failure). */
export function propertyParameters(defaultRuns: number): fc.Parameters<unknown> {
  const seed = process.env.TIDEWIRE_PROPERTY_SEED;
  const runs = Number(process.env.TIDEWIRE_PROPERTY_RUNS ?? defaultRuns);
  return { numRuns: runs, ...(seed !== undefined && { seed: Number(seed) }) };
}
