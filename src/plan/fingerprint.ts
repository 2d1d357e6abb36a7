import { createHash } from 'node:crypto';
import type { DesiredState } from '../federation.js';
import type { LiveState } from '../state/live-state.js';

/** Text handed to the hash at a time: one call per item costs more than the hashing itself. */
const CHUNK_CHARACTERS = 1 << 16;

/**
 * SHA-256 of a value's JSON, fed in chunks of list items: at the largest
 * sizes the JSON of a whole state would be tens of megabytes held at once.
 * Lists are framed (`[`, items, `]`), so different states never feed the same text.
 */
function sha256(value: Readonly<Record<string, unknown>>): string {
  const hash = createHash('sha256');
  let chunk = '';
  const feed = (text: string): void => {
    chunk += text;
    if (chunk.length >= CHUNK_CHARACTERS) {
      hash.update(chunk);
      chunk = '';
    }
  };
  for (const [key, field] of Object.entries(value)) {
    feed(`${JSON.stringify(key)}:`);
    if (Array.isArray(field)) {
      feed('[');
      for (const item of field) feed(`${JSON.stringify(item)},`);
      feed('],');
    } else {
      feed(`${JSON.stringify(field)},`);
    }
  }
  hash.update(chunk);
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
