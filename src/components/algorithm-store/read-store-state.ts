import { USER_LIST_POLICIES, storeRuleKey, type StoreRuleKey } from '../../catalog/store-catalog.js';
import { sortedUnique, type StorePolicyValue } from '../../federation.js';
import type { LiveStoreRole, LiveStoreUser } from '../../state/live-state.js';
import type { StoreApi } from './store-api.js';

interface ApiStoreRule { readonly id: number; readonly name: string; readonly operation: string }
interface ApiStoreRole { readonly id: number; readonly name: string | null; readonly description: string | null; readonly is_default_role?: boolean | null }
interface ApiStoreUser { readonly id: number; readonly username: string | null; readonly server?: { readonly url?: string | null } | null }

/** What fedctl reads of a store: its rules (by id, for writing), its roles and users of the server, and its policies. */
export interface StoreState {
  readonly url: string;
  readonly policies: Readonly<Record<string, StorePolicyValue>>;
  /** Only the policies the store shows anyone were read (a 4.x store that does not know the server yet). */
  readonly onlyPublicPolicies?: true;
  readonly rules: ReadonlyMap<StoreRuleKey, number>;
  readonly roles: readonly LiveStoreRole[];
  readonly users: readonly LiveStoreUser[];
}

const withoutSlash = (url: string): string => url.replace(/\/+$/, '');

/**
 * A store's rules, roles (with their rules) and users (with their roles),
 * each link read from the role's side: a store has few roles and may have
 * many users. A 4.x store lists the users of every server it whitelisted:
 * only the server's own (`serverUrl`) are this federation's. `account` is
 * fedctl's own username at the store, never pruned.
 */
export async function readStoreState(api: StoreApi, serverUrl: string | null, account: string): Promise<StoreState> {
  const [rules, roles, users, policies] = await Promise.all([
    api.list<ApiStoreRule>('rule'), api.list<ApiStoreRole>('role'), api.list<ApiStoreUser>('user'), api.get<Record<string, unknown>>('policy'),
  ]);
  const ruleKey = new Map(rules.map((rule) => [rule.id, storeRuleKey(rule.name, rule.operation)]));
  const named = roles.filter((role): role is ApiStoreRole & { name: string } => role.name !== null);
  const [roleRules, roleUsers] = await Promise.all([
    Promise.all(named.map(async (role) => (await api.list<ApiStoreRule>('rule', { role_id: role.id })).flatMap((rule) => ruleKey.get(rule.id) ?? []))),
    Promise.all(named.map(async (role) => (await api.list<ApiStoreUser>('user', { role_id: role.id })).map((user) => user.id))),
  ]);
  const rolesOf = new Map<number, string[]>();
  named.forEach((role, i) => {
    for (const user of roleUsers[i] ?? []) rolesOf.set(user, [...(rolesOf.get(user) ?? []), role.name]);
  });
  const ours = (user: ApiStoreUser): boolean => serverUrl === null || withoutSlash(user.server?.url ?? '') === withoutSlash(serverUrl);
  return {
    url: api.url,
    policies: policyValues(policies, serverUrl),
    rules: new Map([...ruleKey].map(([id, key]) => [key, id])),
    roles: named.map((role, i) => ({
      store: api.url, id: role.id, name: role.name, description: role.description === '' ? null : role.description,
      rules: sortedUnique(roleRules[i] ?? []), isDefault: role.is_default_role === true,
    })),
    users: users.flatMap((user) => (user.username === null || !ours(user) ? [] : [{
      store: api.url, id: user.id, username: user.username, roles: sortedUnique(rolesOf.get(user.id) ?? []),
      ...(user.username === account ? { account: true as const } : {}),
    }])),
  };
}

/**
 * What fedctl can read of a 4.x store that does not know the server yet (it
 * refuses the server's tokens until linked): the policies it shows anyone.
 * No users of the server and no roles fedctl can see.
 */
export async function readUnlinkedStoreState(api: StoreApi, serverUrl: string | null): Promise<StoreState> {
  const policies = await api.get<Record<string, unknown>>('policy/public');
  return { url: api.url, policies: policyValues(policies, serverUrl), onlyPublicPolicies: true, rules: new Map(), roles: [], users: [] };
}

/**
 * The policies as the store lists them, in the config's terms: a flag as a
 * boolean (some stores say 1), a number as a number, a list sorted, and
 * `allowed_servers` absent when the store allows every server (it says `all`).
 * Lists of users are usernames: a 4.x store's `username|server URL` of this
 * server (`serverUrl`) only.
 */
function policyValues(listed: Readonly<Record<string, unknown>>, serverUrl: string | null): Record<string, StorePolicyValue> {
  const values: Record<string, StorePolicyValue> = {};
  for (const [name, value] of Object.entries(listed)) {
    if (value === null || value === undefined || (name === 'allowed_servers' && value === 'all')) continue;
    if (name in USER_LIST_POLICIES) {
      const users = (Array.isArray(value) ? value : [value]).map(String).flatMap((entry) => {
        if (serverUrl === null) return [entry];
        const at = entry.lastIndexOf('|');
        return at >= 0 && withoutSlash(entry.slice(at + 1)) === withoutSlash(serverUrl) ? [entry.slice(0, at)] : [];
      });
      values[name] = sortedUnique(users);
      continue;
    }
    if (name === 'allow_localhost' || name === 'assign_review_own_algorithm') values[name] = value === true || value === 1 || value === '1' || value === 'true' || value === 'True';
    else if (Array.isArray(value)) values[name] = sortedUnique(value.map(String));
    else if (typeof value === 'number' || typeof value === 'boolean') values[name] = value;
    else if (typeof value === 'string') values[name] = name.startsWith('min_') && /^\d+$/.test(value) ? Number(value) : name === 'allowed_servers' ? [value] : value;
  }
  return values;
}
