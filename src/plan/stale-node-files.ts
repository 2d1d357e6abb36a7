import { usesKeycloak } from '../catalog/vantage6-versions.js';
import type { DesiredState } from '../federation.js';
import { ownValue } from '../own-property.js';
import { nodePoliciesDigest } from '../secrets/node-config.js';
import type { LiveState } from '../state/live-state.js';
import type { Plan } from './plan.js';

/**
 * The nodes whose files, written when their keys were made, carry other
 * policies than the config now gives them, and that this plan neither makes
 * nor rotates the key of (which writes the file anew). Where fedctl noted the
 * digest of a file's policies (`written`), that is compared with the
 * config's: a node's own policies, its collaboration's stores, the ids of the
 * users it allows. A file written before fedctl noted digests is stale when
 * the plan changes which stores serve its collaboration. `written` is null
 * where fedctl writes no node files (no encrypted secrets, or no `server:` to
 * point them at): then none is stale. Sorted node names. Pure.
 */
export function staleNodeFiles(plan: Plan, desired: DesiredState, live: LiveState, written: ReadonlyMap<string, string> | null): string[] {
  const { secrets } = desired;
  if (written === null) return [];
  const storesOf = (collaboration: string): readonly string[] => ownValue(secrets.nodeStores, collaboration) ?? [];
  const storesBefore = (collaboration: string): string => live.algorithmStores
    .filter((store) => store.everyCollaboration || store.collaborations.includes(collaboration)).map((store) => store.url).sort().join('\n');
  const userIds = new Map(live.users.map((user) => [user.username, user.id]));
  const format = usesKeycloak(live.server.versions.to) ? 'hq' : 'v4';
  /** The digest of the policies a file written now would carry; null when a user it allows has no id yet (no file names them). */
  const digestNow = (node: string, collaboration: string): string | null => {
    const policies = ownValue(secrets.nodePolicies, node);
    const usernames = policies?.allowedUsers ?? [];
    const users = usernames.flatMap((username) => {
      const id = userIds.get(username);
      return id === undefined ? [] : [{ username, id }];
    });
    if (users.length !== usernames.length) return null;
    return nodePoliciesDigest({
      algorithmStores: storesOf(collaboration), ...(policies === undefined ? {} : { policies }),
      ...(policies?.allowedUsers === undefined ? {} : { allowedUsers: users }),
    }, format);
  };
  const rewritten = new Set(plan.changes.flatMap((change) => (change.kind === 'node' && (change.action === 'create'
    || (change.action === 'update' && change.fields.some((field) => 'secret' in field))) ? [change.after.name] : [])));
  const kept = new Set(desired.nodes.map((node) => node.name));
  return live.nodes.filter((node) => {
    if (node.collaboration === null || !kept.has(node.name) || rewritten.has(node.name)) return false;
    const noted = written.get(node.name);
    if (noted !== undefined) return digestNow(node.name, node.collaboration) !== noted;
    return storesBefore(node.collaboration) !== [...storesOf(node.collaboration)].sort().join('\n');
  }).map((node) => node.name).sort();
}
