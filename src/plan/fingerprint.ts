import { createHash } from 'node:crypto';
import type { DesiredState } from '../federation.js';
import type { LiveState } from '../state/live-state.js';

function sha256(value: unknown): string {
  return `sha256:${createHash('sha256').update(JSON.stringify(value)).digest('hex')}`;
}

/**
 * A fingerprint of the live state's content (its ids and values, not when
 * it was read): an apply that changed nothing leaves it as it was.
 */
export function fingerprintState(live: LiveState): string {
  return sha256(live);
}

export function fingerprintConfig(desired: DesiredState): string {
  return sha256(desired);
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
