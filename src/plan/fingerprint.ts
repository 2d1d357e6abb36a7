import { createHash } from 'node:crypto';
import type { DesiredState } from '../federation.js';
import type { LiveState } from '../state/live-state.js';

/** List items stringified at a time: one call per item costs more than the hashing itself. */
const ITEMS_PER_CHUNK = 2000;

/**
 * SHA-256 of a value's JSON, fed in chunks of list items: at the largest
 * sizes the JSON of a whole state would be tens of megabytes held at once.
 * Lists are framed (`[`, items each followed by `,`, `]`), so different
 * states never feed the same text.
 */
function sha256(value: Readonly<Record<string, unknown>>): string {
  const hash = createHash('sha256');
  for (const [key, field] of Object.entries(value)) {
    hash.update(`${JSON.stringify(key)}:`);
    if (Array.isArray(field)) {
      hash.update('[');
      for (let start = 0; start < field.length; start += ITEMS_PER_CHUNK) {
        // The JSON of a slice without its brackets is its items' JSON joined by commas.
        hash.update(`${JSON.stringify(field.slice(start, start + ITEMS_PER_CHUNK)).slice(1, -1)},`);
      }
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
