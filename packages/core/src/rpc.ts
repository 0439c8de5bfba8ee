import { nanoid } from 'nanoid';
import type { Client } from './client';
import { TidewireError, ValidationError, isTidewireError } from './errors';
import type { InferOutput, StandardResult, StandardSchemaV1 } from './schema';
import { checkedResult } from './schema';
import { listenerError } from './isolate';

/**
 * Request/response over the client's connection (`@tidewire/core/rpc`, protocol §16). Its own
 * entry, so an app that never calls a method ships none of this: the client core only carries
 * the shared request path (`client.request`) that publish uses too.
 */

/** What `rpc()` takes besides the method and data. */
export interface RpcOptions<Input extends StandardSchemaV1 | undefined = undefined, Output extends StandardSchemaV1 | undefined = undefined> {
  /** Milliseconds from sending the call to its answer (default: the client's `publishTimeout`, 10 s). Time spent queued offline counts against `queueTimeout` instead. */
  readonly timeout?: number;
  /** Abort the call: queued, it is never sent; sent, its answer is ignored. Rejects with `aborted` (`cause`: the signal's reason). */
  readonly signal?: AbortSignal;
  /** Checks (and may transform) `data` before anything is sent; a failure rejects with `validation_failed`. */
  readonly input?: Input;
  /** Checks (and types) the server's answer; a failure rejects with `validation_failed`. */
  readonly output?: Output;
}

/**
 * The server's rpc handler refused the call with `throw new RpcError(code, message)`: `code` is
 * `rpc_error` here, and `appCode` is the handler's own code (e.g. `insufficient_funds`).
 */
export class RpcError extends TidewireError {
  override readonly name = 'RpcError';
  /** The code the server-side handler threw with. */
  readonly appCode: string;

  constructor(appCode: string, message: string, context: Readonly<Record<string, unknown>> = {}) {
    super('rpc_error', message, { context: { ...context, appCode } });
    this.appCode = appCode;
  }
}

/** What `rpc()` needs of a client: its request path (a `Client` and a `SharedClient` both have it). */
export type RequestClient = Pick<Client, 'request' | 'cancelRequest'>;

type Result<Output> = Output extends StandardSchemaV1 ? InferOutput<Output> : unknown;

/**
 * Call `method` on the server and await its answer. Follows the publish rules (docs/client.md
 * "RPC"): while offline the call waits in the outbox (bounded by `maxQueue` and `queueTimeout`;
 * `offline: 'fail'` rejects at once); once sent, `timeout` applies. A call is sent **at most once**:
 * if the line drops after sending, it rejects with `interrupted`, since the server may or may not
 * have run it (retry only if the method is safe to repeat).
 *
 * @param client the client whose connection carries the call (connects it when `lazy`) — a
 *   private client, or a shared one from `@tidewire/core/shared`
 * @param method a name from the server's `rpc` option
 * @param data any JSON value; none (or `undefined`) travels as `null` (the client's `input` schema sees what was passed)
 * @param options `timeout` (ms), `signal`, `input`/`output` Standard Schemas (zod, valibot…)
 * @returns what the handler returned (`null` for nothing), typed by `output` when given
 * @throws (rejects) {RpcError} `rpc_error` with `appCode` when the handler refused; {TidewireError}
 *   `unknown_method`, `bad_request` (the server's `input` schema refused), `validation_failed`,
 *   `timeout`, `aborted`, `interrupted`, `queue_full`, `too_large`, `not_connected`, `closed`, `server_error`
 * @example
 * ```ts
 * import { rpc } from '@tidewire/core/rpc';
 * const { balance } = await rpc(client, 'withdraw', { amount: 5 }, { timeout: 3000, output: BalanceSchema });
 * ```
 */
export async function rpc<Input extends StandardSchemaV1 | undefined = undefined, Output extends StandardSchemaV1 | undefined = undefined>(
  client: RequestClient,
  method: string,
  data?: Input extends StandardSchemaV1<infer I> ? I : unknown,
  options: RpcOptions<Input, Output> = {},
): Promise<Result<Output>> {
  const { signal, input, output, timeout } = options;
  const aborted = (): TidewireError => new TidewireError('aborted', `rpc "${method}" was aborted`, { cause: signal?.reason, context: { method } });
  if (signal?.aborted) throw aborted();
  const id = nanoid();
  // Whatever the call waits for — an async schema that may never settle, the answer — an abort settles it at once.
  let onAbort = (): void => {};
  const abort = new Promise<never>((_, reject) => (onAbort = () => (client.cancelRequest(id, aborted()), reject(aborted()))));
  abort.catch(() => {}); // nothing may be waiting on it when the signal fires
  const abortable = <T>(step: Promise<T>): Promise<T> => (signal ? Promise.race([step, abort]) : step);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // The client's `input` schema sees what the caller passed (a `.default()` or `.optional()` may
    // fill in "no data"); what it answers travels, and no data (undefined) travels as null (JSON has
    // no undefined; protocol §16) — the server's schema and handler see null.
    const payload = (input ? await abortable(check(input, data, `rpc "${method}" data`)) : data) ?? null;
    const answer = await abortable(client.request<unknown>({ type: 'rpc', id, method, data: payload }, { atMostOnce: true, ...(timeout !== undefined && { timeout }) }));
    return (output ? await abortable(check(output, answer, `rpc "${method}" result`)) : answer) as Result<Output>;
  } catch (e) {
    if (isTidewireError(e) && e.code === 'rpc_error') throw new RpcError(String(e.context.appCode ?? 'rpc_error'), e.message, { method, id });
    if (isTidewireError(e) && e.code === 'timeout') {
      throw new TidewireError('timeout', `rpc "${method}" got no answer in time`, { cause: e, context: { ...e.context, method } });
    }
    throw e;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Validate with `schema` (may be async here); a validator that throws or answers garbage rejects `listener_error` (`context.callback: 'schema'`). */
async function check(schema: StandardSchemaV1, value: unknown, what: string): Promise<unknown> {
  let result: StandardResult<unknown>;
  try {
    result = checkedResult(await schema['~standard'].validate(value));
  } catch (cause) {
    throw listenerError('schema', cause, { what });
  }
  if (result.issues) throw new ValidationError('validation_failed', `${what} failed its schema: ${result.issues.map((i) => i.message).join('; ')}`);
  return result.value;
}
