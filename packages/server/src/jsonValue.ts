/**
 * The one rule for a value that app code hands the server to send or store: `server.publish` data,
 * the `{ data }` an `onPublish` hook returns, an rpc handler's result, the `user` a presence member
 * carries. Such a value is not JSON by construction (a client's data is: it was parsed from JSON),
 * and one that is not would reach the wire as a frame with a field missing — which clients drop as
 * invalid and ask for again, forever, once it is stored — or throw in every subscriber's fan-out.
 */

import { jsonTextNestsTooDeep } from './depth';
import { TidewireServerError } from './errors';

/**
 * The default of `limits.maxDepth` (options.ts), for the few places not handed the resolved limit.
 * Keep it equal to the option's default.
 */
export const DEFAULT_MAX_DEPTH = 64;

/**
 * The JSON text `value` travels as, or a refusal: `JSON.stringify` must succeed (no cycle, no BigInt,
 * no stack overflow) and give text (not `undefined`: a function, a symbol, `undefined` itself, a
 * `toJSON` answering undefined), and the text must nest at most `maxDepth` levels (measured without
 * recursion). Nested functions and `undefined` fields are dropped as JSON drops them: the text is
 * what every subscriber gets.
 * @param value what app code produced
 * @param maxDepth deepest nesting allowed; a value that travels inside a frame may nest `limits.maxDepth - 1`
 * @param what names the value in the error message, e.g. `publish data`
 * @returns the value's JSON text
 * @throws TidewireServerError `invalid_data`, its message saying why (`<what> is not JSON: …`, `<what> nests deeper than …`)
 * @example
 * ```ts
 * const text = jsonTextOf(result, options.limits.maxDepth - 1, 'rpc result');
 * ```
 */
export function jsonTextOf(value: unknown, maxDepth: number, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new TidewireServerError('invalid_data', `${what} is not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (text === undefined) throw new TidewireServerError('invalid_data', `${what} is not JSON (undefined, a function or a symbol)`);
  if (jsonTextNestsTooDeep(text, maxDepth)) throw new TidewireServerError('invalid_data', `${what} nests deeper than ${maxDepth} levels`);
  return text;
}

/**
 * The server's own copy of app data it keeps (history, replays), made from its JSON `text`: an
 * app that mutates the object after `server.publish` (or after `onPublish` returned it) must not
 * change what a recovering client is replayed, which live subscribers got as `text`. Primitives
 * are immutable and pass as they are (no parse).
 * @param value app data already checked by {@link jsonTextOf}
 * @param text its JSON text
 * @returns `value` itself, or a structural copy parsed from `text`
 */
export function storedCopy(value: unknown, text: string): unknown {
  return typeof value === 'object' && value !== null ? JSON.parse(text) : value;
}
