import type { TidewireError } from './errors';
import { ValidationError } from './errors';
import { isThenable, listenerError } from './isolate';
import type { MessageFrame } from './protocol/frames';

/**
 * The Standard Schema v1 interface (https://standardschema.dev), declared inline
 * so any validator that implements it (zod, valibot, arktype…) types and checks
 * a channel without the core depending on one.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<unknown> }> };

/** The data type a Standard Schema validator produces (`unknown` for anything else). */
export type InferOutput<S> = S extends StandardSchemaV1<unknown, infer O> ? O : unknown;

/**
 * Validate synchronously (delivery is in order, so an async validator cannot be awaited per message).
 * The validator is app code and its answer is checked, not trusted: anything but an object with
 * an array of `issues` or without them is the validator failing, not the data.
 * @throws TypeError when the validator answers a thenable (any object with a `then` method, not
 *   only a native Promise) or something that is not a Standard Schema result (`undefined`,
 *   `{ issues: 5 }`…); whatever `validate` itself throws. Callers report it as `listener_error`.
 */
export function validateSync<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): StandardResult<T> {
  const result: unknown = schema['~standard'].validate(value);
  if (isThenable(result)) throw new TypeError('a channel schema must validate synchronously');
  return checkedResult<T>(result);
}

/**
 * A validator's answer, checked: an object, with `issues` absent or an array of issue objects.
 * @throws TypeError for anything else (`undefined`, `{ issues: 5 }`…): the validator failed, not the data.
 */
export function checkedResult<T>(result: unknown): StandardResult<T> {
  const issues: unknown = (result as { issues?: unknown } | null)?.issues;
  if (result !== Object(result) || (issues !== undefined && !(Array.isArray(issues) && issues.every((issue) => issue === Object(issue))))) {
    throw new TypeError('a schema answered something that is not a Standard Schema result');
  }
  return result as StandardResult<T>;
}

/**
 * {@link validateSync} as a channel calls it: a validator that throws, or answers something that is
 * not a synchronous Standard Schema result, is app code failing, returned as a `listener_error`
 * (`context.callback: 'schema'`, `context.channel`) rather than thrown.
 * @returns the schema's verdict, or that error.
 */
export function validateIsolated<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, channel: string): StandardResult<T> | TidewireError {
  try {
    return validateSync(schema, value);
  } catch (cause) {
    return listenerError('schema', cause, { channel });
  }
}

/**
 * The `validation_failed` error for data on `channel` its schema refused.
 * @param direction `inbound` (a message received: `frame`) or `outbound` (a publish)
 */
export function invalidData(issues: ReadonlyArray<{ message: string }>, direction: 'inbound' | 'outbound', channel: string, frame?: MessageFrame): ValidationError {
  return new ValidationError('validation_failed', `${direction} data on "${channel}" failed its schema: ${issues.map((i) => i.message).join('; ')}`, {
    context: { channel, issues, ...(frame ? { offset: frame.offset, id: frame.id, data: frame.data } : {}) },
  });
}

/**
 * Check data about to be published on `channel` against its `schema` (none: nothing to check) —
 * the one check of a channel handle's `publish` and of a binding's `publish` that holds no handle.
 * @returns the refusal (`validation_failed`, or `listener_error` for a schema that throws), or undefined: send it
 */
export function refuseOutbound(schema: StandardSchemaV1 | undefined, data: unknown, channel: string): TidewireError | undefined {
  if (!schema) return undefined;
  const result = validateIsolated(schema, data, channel);
  if (result instanceof Error) return result;
  return result.issues ? invalidData(result.issues, 'outbound', channel) : undefined;
}
