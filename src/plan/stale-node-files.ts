import type { DesiredState } from '../federation.js';
import { ownValue } from '../own-property.js';
import type { LiveState } from '../state/live-state.js';
import type { Plan } from './plan.js';

/**
 * The nodes whose files, written when their keys were made, list their
 * collaboration's algorithm stores as they were before this plan: the plan
 * changes which stores serve the collaboration, and neither makes the node
 * nor rotates its key (which would write its file anew). Only where fedctl
 * writes node files (encrypted secrets, and a `server:` to point them at).
 * Sorted node names. Pure.
 */
export function staleNodeFiles(plan: Plan, desired: DesiredState, live: LiveState): string[] {
  if (desired.secrets.server === null || desired.secrets.recipients.length === 0) return [];
  const storesBefore = (collaboration: string): string => live.algorithmStores
    .filter((store) => store.everyCollaboration || store.collaborations.includes(collaboration)).map((store) => store.url).sort().join('\n');
  const storesAfter = (collaboration: string): string => [...(ownValue(desired.secrets.nodeStores, collaboration) ?? [])].sort().join('\n');
  const rewritten = new Set(plan.changes.flatMap((change) => (change.kind === 'node' && (change.action === 'create'
    || (change.action === 'update' && change.fields.some((field) => 'secret' in field))) ? [change.after.name] : [])));
  const kept = new Set(desired.nodes.map((node) => node.name));
  const changed = new Set(desired.collaborations.map((c) => c.name).filter((name) => storesBefore(name) !== storesAfter(name)));
  return live.nodes.filter((node) => node.collaboration !== null && changed.has(node.collaboration) && kept.has(node.name) && !rewritten.has(node.name))
    .map((node) => node.name).sort();
}
