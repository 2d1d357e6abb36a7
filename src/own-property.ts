/**
 * Records keyed by names from a config or a database: a name may be
 * "constructor" or "__proto__", which plain property access would take for
 * the prototype's.
 */

/** The record's own value for `key`, never an inherited one. */
export function ownValue<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Set `key` as plain data, also when it is "__proto__". */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}
