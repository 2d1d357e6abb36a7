import { createHash } from 'node:crypto';
import type { DesiredState } from '../federation.js';
import type { LiveState } from '../state/live-state.js';

/**
 * SHA-256 of a value's JSON, fed one list item at a time: at the largest
 * sizes the JSON of a whole state would be tens of megabytes held at once.
 * Lists are framed (`[`, items, `]`), so different states never feed the same text.
 */
function sha256(value: Readonly<Record<string, unknown>>): string {
  const hash = createHash('sha256');
  for (const [key, field] of Object.entries(value)) {
    hash.update(`${JSON.stringify(key)}:`);
    if (Array.isArray(field)) {
      hash.update('[');
      for (const item of field) hash.update(`${JSON.stringify(item)},`);
      hash.update('],');
    } else {
      hash.update(`${JSON.stringify(field)},`);
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * A fingerprint of the live state's content (its ids and values, not when
 * it was read): an apply that changed nothing leaves it as it was.
 */
export function fingerprintState(live: LiveState): string {
  return sha256(live as unknown as Readonly<Record<string, unknown>>);
}

export function fingerprintConfig(desired: DesiredState): string {
  return sha256(desired as unknown as Readonly<Record<string, unknown>>);
}

/**
 * The administrative state only, without what tasks and runs refer to:
 * analyses running on the server are not changes made outside fedctl. The
 * history compares it.
 */
export function fingerprintAdministration(live: LiveState): string {
  const { inUse: _runtime, ...administration } = live;
  return sha256(administration);
}
