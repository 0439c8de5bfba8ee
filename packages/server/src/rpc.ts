import { brand, type ErrorCode, type RpcFrame, type ServerFrame } from '@tidewire/core/protocol';
import type { Clock } from './clock';
import { toWireData } from './bytes';
import { callHook, type HookOutcome } from './hookDeadline';
import type { Logger, SessionInfo } from './hooks';
import { DEFAULT_MAX_DEPTH, jsonTextOf } from './jsonValue';

/**
 * The Standard Schema v1 surface (https://standardschema.dev) an rpc method may name for its
 * request and response: zod 4, valibot, arktype… implement it. Declared here so the server does
 * not depend on one validator.
 */
export interface RpcSchema<Output = unknown> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (
      value: unknown,
    ) => RpcSchemaResult<Output> | Promise<RpcSchemaResult<Output>>;
  };
}
type RpcSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<unknown> }> };

/** What an rpc handler receives: the session's `user` (from `authenticate`), the `session` and the call's `data` (validated when the method has an `input` schema). */
export interface RpcContext<User = unknown, Data = unknown> {
  readonly user: User;
  readonly session: SessionInfo<User>;
  readonly data: Data;
  /** The rpc method name, as the client sent it. */
  readonly method: string;
}

/**
 * A handler: return the result (any JSON value or bytes; `undefined` answers `null`), or throw an
 * {@link RpcError}. A result that is not JSON (a function, a symbol, a BigInt, a cycle) or nests deeper
 * than `limits.maxDepth - 1` answers `server_error` and is logged.
 */
export type RpcHandler<User = unknown, Data = unknown, Result = unknown> = (ctx: RpcContext<User, Data>) => Result | Promise<Result>;

/** A method with schemas: `input` checks the request (a failure answers `bad_request`), `output` the result (a failure answers `server_error` and is logged). */
export interface RpcMethod<User = unknown> {
  readonly input?: RpcSchema;
  readonly output?: RpcSchema;
  readonly handler: RpcHandler<User>;
}

/** The server's `rpc` option: method name → a handler, or `{ input?, output?, handler }`. */
export type RpcMethods<User = unknown> = Readonly<Record<string, RpcHandler<User> | RpcMethod<User>>>;

/**
 * Thrown by an rpc handler to refuse a call with the app's own `code`; the client's promise
 * rejects with an `RpcError` whose `code` is `rpc_error` and whose `appCode` is this code.
 * Any other throw answers `server_error` ("internal error") and is logged, so internals never leak.
 * @example
 * ```ts
 * rpc: { withdraw: ({ data }) => { if (data.amount > 100) throw new RpcError('insufficient_funds', 'balance is 100'); return { ok: true }; } }
 * ```
 */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  /** The app's code, sent to the client as `appCode` (1–64 characters of `[A-Za-z0-9_.:-]`). */
  readonly code: string;

  /**
   * @param code the app's stable code, e.g. `insufficient_funds`
   * @param message what the client sees as the error's message
   * @throws TypeError when `code` is not 1–64 characters of `[A-Za-z0-9_.:-]`
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    if (!/^[\w.:-]{1,64}$/.test(code)) throw new TypeError(`RpcError code must be 1-64 characters of [A-Za-z0-9_.:-], got ${JSON.stringify(code)}`);
    this.code = code;
  }
}
/** Also an RpcError thrown by an app that imports the other build of the server (ESM beside CJS). */
const isRpcError = brand(RpcError, 'tidewire.rpc-error');

/** What a session lends the rpc runner. */
export interface RpcHost {
  readonly methods: RpcMethods<unknown> | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Past this (ms) a handler's answer is no longer awaited: the call answers `server_error`. */
  readonly timeout: number;
  /** The server's `limits.maxDepth` (default 64): a result may nest one level less (it travels inside a frame). */
  readonly maxDepth?: number;
  readonly session: () => SessionInfo;
  readonly send: (frame: ServerFrame) => void;
}

const errorFrame = (id: string, code: ErrorCode, message: string, appCode?: string): ServerFrame => ({
  type: 'error',
  id,
  code,
  message,
  ...(appCode !== undefined && { appCode }),
});

/**
 * Run one `rpc` frame and answer it with `result` or `error` (same id). Calls run concurrently
 * with the session's other requests (a slow method must not hold back publishes), so answers may
 * come in any order; the id pairs them. Never throws.
 */
export async function runRpc(frame: RpcFrame, host: RpcHost): Promise<void> {
  const { id, method } = frame;
  const entry = host.methods && Object.hasOwn(host.methods, method) ? host.methods[method] : undefined;
  if (!entry) return host.send(errorFrame(id, 'unknown_method', `no rpc method "${method}"`));
  const { handler, input, output } = typeof entry === 'function' ? { handler: entry, input: undefined, output: undefined } : entry;
  // The method's schemas are app code as much as its handler: each step within hookTimeout, a throw logged.
  const failed = (outcome: HookOutcome<unknown>, step: string): void => {
    host.logger.error(`tidewire: rpc "${method}" ${step} ${outcome.kind === 'threw' ? 'threw' : `did not answer within ${host.timeout} ms`}`, outcome.kind === 'threw' ? outcome.error : undefined);
    host.send(errorFrame(id, 'server_error', outcome.kind === 'threw' ? 'internal error' : `rpc "${method}" did not answer in time`));
  };
  let data = frame.data;
  if (input) {
    const outcome = await callHook(() => input['~standard'].validate(data), host.timeout, host.clock);
    if (outcome.kind !== 'answered') return failed(outcome, 'input schema');
    const checked = outcome.value;
    if (checked.issues) return host.send(errorFrame(id, 'bad_request', `rpc "${method}": ${describeIssues(checked.issues)}`));
    data = checked.value;
  }
  const info = host.session();
  const outcome = await callHook(() => handler({ user: info.user, session: info, data, method }), host.timeout, host.clock);
  if (outcome.kind === 'threw' && isRpcError(outcome.error)) return host.send(errorFrame(id, 'rpc_error', outcome.error.message, outcome.error.code));
  if (outcome.kind !== 'answered') return failed(outcome, 'handler');
  let result: unknown = outcome.value ?? null;
  if (output) {
    const validated = await callHook(() => output['~standard'].validate(result), host.timeout, host.clock);
    if (validated.kind !== 'answered') return failed(validated, 'output schema');
    const checked = validated.value;
    if (checked.issues) {
      host.logger.error(`tidewire: rpc "${method}" returned a result its output schema refuses: ${describeIssues(checked.issues)}`);
      return host.send(errorFrame(id, 'server_error', 'internal error'));
    }
    result = checked.value;
  }
  const answer = toWireData(result); // a handler may return bytes
  try {
    // Sent as is, a function or a symbol would make a `result` without `data`: the client drops the
    // frame as invalid and its call waits for a timeout. Checked like server.publish data (jsonValue.ts).
    jsonTextOf(answer, (host.maxDepth ?? DEFAULT_MAX_DEPTH) - 1, `the result of rpc "${method}"`);
  } catch (e) {
    host.logger.error(`tidewire: rpc "${method}" returned a result that cannot be sent`, e);
    return host.send(errorFrame(id, 'server_error', 'internal error'));
  }
  host.send({ type: 'result', id, data: answer });
}

/** Calls one session may have running at once; one more is refused `rate_limited` (not run), and the client sends it again after `retryAfter`. */
export const MAX_RPCS_IN_FLIGHT = 100;
const RETRY_AFTER_MS = 1000;

/**
 * One session's rpc calls: runs each alongside the session's other requests, never more than
 * {@link MAX_RPCS_IN_FLIGHT} at once (each holds a handler and a deadline timer), and answers a
 * call whose answer cannot be sent (a result JSON cannot encode) with `server_error`.
 */
export class SessionRpc {
  #inFlight = 0;

  constructor(private readonly host: RpcHost) {}

  /** Start one call; its answer is sent when it settles. Never throws, never rejects. */
  async run(frame: RpcFrame): Promise<void> {
    const { host } = this;
    if (this.#inFlight >= MAX_RPCS_IN_FLIGHT) {
      return host.send({ type: 'error', id: frame.id, code: 'rate_limited', message: `more than ${MAX_RPCS_IN_FLIGHT} rpc calls in flight`, retryAfter: RETRY_AFTER_MS });
    }
    this.#inFlight++;
    try {
      await runRpc(frame, host);
    } catch (e) {
      host.logger.error(`tidewire: rpc "${frame.method}" could not be answered`, e);
      try {
        host.send(errorFrame(frame.id, 'server_error', 'internal error'));
      } catch {
        // the session is gone: nobody to answer
      }
    } finally {
      this.#inFlight--;
    }
  }
}

function describeIssues(issues: RpcSchemaResult<unknown>['issues'] & object): string {
  const first = issues[0];
  if (!first) return 'invalid data';
  const path = first.path?.map((p) => (typeof p === 'object' && p !== null && 'key' in p ? String(p.key) : String(p))).join('.');
  return path ? `${path}: ${first.message}` : first.message;
}
