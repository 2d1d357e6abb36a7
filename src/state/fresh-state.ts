import { referenceCatalog } from '../catalog/reference-catalog.js';
import { ruleKey } from '../catalog/rule-catalog.js';
import {
  NEWEST_RELEASE, featuresOfRelease, minorOf, versionRangeOfRelease, type DatabaseRelease,
} from '../catalog/vantage6-versions.js';
import { sortedUnique } from '../federation.js';
import { NOTHING_UNKNOWN, ROOT_OWNED, type LiveState } from './live-state.js';

/**
 * The state of a database that `fedctl init` would create for a release: its
 * rule catalogue and built-in roles, nothing else. Plan uses it for a
 * database that does not exist yet, so that it never has to create one.
 */
export function freshState(release: DatabaseRelease = NEWEST_RELEASE): LiveState {
  const { rules, defaultRoles } = referenceCatalog(release);
  const minor = minorOf(release);
  return {
    server: { versions: versionRangeOfRelease(minor), features: featuresOfRelease(minor), unknown: NOTHING_UNKNOWN, limits: [], grantable: null, owned: ROOT_OWNED },
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
    inUse: [],
  };
}
