import { DEFAULT_ROLES, RULE_CATALOG, ruleKey } from '../catalog/rule-catalog.js';
import { sortedUnique } from '../federation.js';
import type { LiveState } from './live-state.js';

/**
 * The state of a database that `fedctl init` would create: the rule
 * catalogue and the built-in roles, nothing else. Plan uses it for a database
 * that does not exist yet, so that it never has to create one.
 */
export function freshState(): LiveState {
  return {
    rules: RULE_CATALOG.map((rule) => ({ id: rule.id, key: ruleKey(rule) })),
    organizations: [],
    collaborations: [],
    nodes: [],
    studies: [],
    roles: DEFAULT_ROLES.map((role) => ({
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
