/**
 * Mark a class so that its instances are recognised by every copy of the package that defines it:
 * an app can load one package twice (its ESM and CommonJS builds, or two versions), and
 * `instanceof` fails across the copies. The mark is a registered symbol (`Symbol.for(key)`), the
 * same in every copy, set on the prototype (not enumerable: logs and JSON are unchanged).
 * @param cls the class to mark
 * @param key a name unique to it, e.g. `'tidewire.error'`
 * @returns the check: whether a value is an instance of `cls`, from any copy
 */
export function brand<T extends object>(cls: abstract new (...args: never[]) => T, key: string): (value: unknown) => value is T {
  const mark = Symbol.for(key);
  Object.defineProperty(cls.prototype, mark, { value: true });
  return (value): value is T => value instanceof cls || (typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[mark] === true);
}
