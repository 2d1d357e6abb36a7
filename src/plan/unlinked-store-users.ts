import { unlinkDeletesStoreUsers } from '../catalog/store-catalog.js';
import { usesKeycloak } from '../catalog/vantage6-versions.js';
import type { LiveState } from '../state/live-state.js';
import type { Plan } from './plan.js';

/**
 * The stores this plan unlinks that then delete their users of the server,
 * with their store roles (fedctl's account among them when it is the store's
 * root): what a reviewer must know before pruning a 4.x store. Sorted URLs. Pure.
 */
export function storesDeletingUsers(plan: Plan, live: LiveState): string[] {
  if (!unlinkDeletesStoreUsers(usesKeycloak(live.server.versions.to))) return [];
  return plan.changes.filter((change) => change.kind === 'algorithm_store' && change.action === 'delete').map((change) => change.address).sort();
}
