import { referenceCatalog } from '../catalog/reference-catalog.js';
import { ruleKey } from '../catalog/rule-catalog.js';
import {
  NEWEST_RELEASE, featuresOfRelease, minorOf, versionRangeOfRelease, type DatabaseRelease,
} from '../catalog/vantage6-versions.js';
import { sortedUnique } from '../federation.js';
import { NOTHING_UNKNOWN, ROOT_OWNED, type ChangeLimit, type LiveState } from './live-state.js';

/**
 * What a server's database cannot do of linking stores: the server calls the
 * store when it links or unlinks one (it whitelists itself there, or takes
 * that back). Renaming a link and changing which collaborations a linked
 * store serves need no call, and are made in the database as the server makes them.
 */
export const STORE_LINK_LIMITS: readonly ChangeLimit[] = [
  { kind: 'algorithm_store', change: 'create',
    reason: 'linking a store makes the server whitelist itself at the store, which the server\'s database cannot do: apply through the server\'s API (--server URL, or server: manage: api)' },
  { kind: 'algorithm_store', change: 'delete',
    reason: 'unlinking a store makes the server take back its whitelisting at the store, which the server\'s database cannot do: apply through the server\'s API (--server URL, or server: manage: api)' },
];

/**
 * The state of a database that `fedctl init` would create for a release: its
 * rule catalogue and built-in roles, nothing else. Plan uses it for a
 * database that does not exist yet, so that it never has to create one.
 */
export function freshState(release: DatabaseRelease = NEWEST_RELEASE): LiveState {
  const { rules, defaultRoles } = referenceCatalog(release);
  const minor = minorOf(release);
  return {
    server: { versions: versionRangeOfRelease(minor), features: featuresOfRelease(minor), unknown: NOTHING_UNKNOWN, limits: STORE_LINK_LIMITS, grantable: null, owned: ROOT_OWNED },
    rules: rules.map((rule) => ({ id: rule.id, key: ruleKey(rule) })),
    organizations: [],
    collaborations: [],
    nodes: [],
    studies: [],
    roles: defaultRoles.map((role) => ({
      id: role.id,
      name: role.name,
      organization: null,
      description: role.description,
      rules: sortedUnique(role.rules),
      isDefault: true,
    })),
    users: [],
    algorithmStores: [],
    storeRoles: [],
    storeUsers: [],
    storePolicies: [],
    inUse: [],
  };
}
