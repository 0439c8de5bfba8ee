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

/** Validate synchronously (delivery is in order, so an async validator cannot be awaited per message). */
export function validateSync<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): StandardResult<T> {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) {
    throw new TypeError('Tidewire channel schemas must validate synchronously');
  }
  return result;
}
