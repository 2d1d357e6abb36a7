import { OPERATIONS, parseRuleKey, type Operation, type RuleKey, type RuleTriple, type Scope } from '../catalog/rule-catalog.js';
import { compareStrings, roleLabel, roleRefKey, sortedUnique, type RoleRef } from '../federation.js';
import type { AccessModel } from './access-model.js';
import { StoreAccess } from './store-access.js';

export type { AccessModel } from './access-model.js';

/**
 * Where a permission reaches, as vantage6 resolves its scope: everything;
 * the collaborations of the user's organization and their member
 * organizations (the user's own among them); the user's organization; or the
 * user's own objects.
 */
export type Reach =
  | { readonly scope: 'GLOBAL' }
  | { readonly scope: 'COLLABORATION'; readonly collaborations: readonly string[]; readonly organizations: readonly string[] }
  | { readonly scope: 'ORGANIZATION'; readonly organizations: readonly string[] }
  | { readonly scope: 'OWN' };

const targetsOfReach = new WeakMap<Reach, readonly string[]>();

/** What a reach covers, as plans and reports name it: `everything`, `collaboration "X"` and `organization "Y"`, `their own`. */
export function reachTargets(reach: Reach): readonly string[] {
  let targets = targetsOfReach.get(reach);
  if (targets === undefined) {
    targets = describeReach(reach);
    // Reaches are shared by the users of an organization: their targets are worth keeping.
    targetsOfReach.set(reach, targets);
  }
  return targets;
}

function describeReach(reach: Reach): string[] {
  switch (reach.scope) {
    case 'GLOBAL': return ['everything'];
    case 'COLLABORATION': return [...reach.collaborations.map((c) => `collaboration ${JSON.stringify(c)}`), ...reach.organizations.map((o) => `organization ${JSON.stringify(o)}`)];
    case 'ORGANIZATION': return reach.organizations.map((o) => `organization ${JSON.stringify(o)}`);
    case 'OWN': return ['their own'];
    default: return unreachable(reach);
  }
}

/** What a user may do with one resource and operation: the widest scope they hold it at, and where from. */
export interface Permission {
  readonly resource: string;
  readonly operation: Operation;
  readonly reach: Reach;
  /** The roles (by label) and `own rules` that give the widest scope. */
  readonly via: readonly string[];
}

/** What a user can list: by kind, the names the server returns, or null when it refuses the list. */
export type ListKind = 'organization' | 'collaboration' | 'node' | 'user' | 'role';

/** Widest first: a wider scope holds what the narrower ones reach. */
const SCOPE_ORDER: readonly Scope[] = ['GLOBAL', 'COLLABORATION', 'ORGANIZATION', 'OWN'];

/**
 * The scopes the server consults when a user lists a kind, widest first, as
 * vantage6 4.x does: collaborations have no collaboration scope to view with.
 */
const LIST_SCOPES: Readonly<Record<ListKind, readonly Scope[]>> = {
  organization: ['GLOBAL', 'COLLABORATION', 'ORGANIZATION'],
  collaboration: ['GLOBAL', 'ORGANIZATION'],
  node: ['GLOBAL', 'COLLABORATION', 'ORGANIZATION'],
  user: ['GLOBAL', 'COLLABORATION', 'ORGANIZATION'],
  role: ['GLOBAL', 'COLLABORATION', 'ORGANIZATION'],
};

/** Every resource of a rule key, in catalogue order as the keys name them. */
const keyOf = (resource: string, scope: Scope, operation: Operation): RuleKey => `${resource}:${scope}:${operation}`;

type AccessUser = AccessModel['users'][number];

/** How a user holds a rule: through which of their roles, and whether as their own rule. */
export interface Holding {
  readonly roles: readonly RoleRef[];
  readonly own: boolean;
}

/**
 * What users of one organization with the same roles and own rules may do.
 * Computed once per such combination and shared, so that federations of
 * many users with few combinations cost little; callers may cache by it.
 */
export interface AccessProfile {
  /** The rules held, sorted. */
  readonly rules: readonly RuleKey[];
  readonly holdings: ReadonlyMap<RuleKey, Holding>;
  readonly permissions: readonly Permission[];
}

/** What a combination of roles and own rules grants, before the holder's organization says where. */
interface Grants {
  readonly rules: readonly RuleKey[];
  readonly holdings: ReadonlyMap<RuleKey, Holding>;
  /** Per resource and operation, the widest scope held and where from. */
  readonly widest: readonly (Omit<Permission, 'reach'> & { readonly scope: Scope })[];
}

/** A disabled user cannot log in: they hold nothing, whatever their roles say. */
const DISABLED: AccessProfile = { rules: [], holdings: new Map(), permissions: [] };

const GLOBAL_REACH: Reach = { scope: 'GLOBAL' };
const OWN_REACH: Reach = { scope: 'OWN' };

/**
 * Access computed over one federation: each user's rules (of their roles and
 * their own), the widest scope of each, and what it reaches. Pure; the same
 * for the config, the live state, and the state a plan leaves.
 */
export class FederationAccess {
  private readonly usersByName = new Map<string, AccessUser>();
  private readonly roleRules = new Map<string, readonly RuleKey[]>();
  private readonly collabsOfOrg = new Map<string, string[]>();
  private readonly membersOf = new Map<string, readonly string[]>();
  private readonly reaches = new Map<string | null, { readonly ORGANIZATION: Reach; readonly COLLABORATION: Reach }>();
  private readonly profiles = new Map<string, AccessProfile>();
  private readonly grants = new Map<string, Grants>();
  private readonly profileOfUser = new Map<string, AccessProfile>();
  /** What users may do at the algorithm stores. */
  readonly stores: StoreAccess;

  constructor(readonly model: AccessModel) {
    this.stores = new StoreAccess(model, new Set(model.users.filter((u) => u.enabled === false).map((u) => u.username)));
    for (const user of model.users) this.usersByName.set(user.username, user);
    for (const role of model.roles) this.roleRules.set(roleRefKey(role), role.rules);
    for (const collab of model.collaborations) {
      this.membersOf.set(collab.name, collab.members);
      for (const member of collab.members) this.collabsOfOrg.set(member, [...(this.collabsOfOrg.get(member) ?? []), collab.name]);
    }
  }

  /** Everyone access is known of: the server's users, then users known only at a store. */
  usernames(): string[] {
    const server = this.model.users.map((u) => u.username);
    return [...server, ...this.stores.usernames().filter((name) => !this.usersByName.has(name))];
  }

  /** A user of the model by name. */
  user(username: string): AccessUser | undefined {
    return this.usersByName.get(username);
  }

  /** What a user may do, shared with every user of the same organization, roles and own rules. */
  profile(username: string): AccessProfile | undefined {
    const known = this.profileOfUser.get(username);
    if (known !== undefined) return known;
    const user = this.usersByName.get(username);
    if (user === undefined) return undefined;
    if (user.enabled === false) return DISABLED;
    const grantsKey = `${user.roles.map(roleRefKey).join('\u0001')}\u0002${user.rules.join('\u0001')}`;
    const profileKey = `${user.organization ?? ''}\u0003${grantsKey}`;
    let profile = this.profiles.get(profileKey);
    if (profile === undefined) {
      let grants = this.grants.get(grantsKey);
      if (grants === undefined) {
        grants = this.computeGrants(user);
        this.grants.set(grantsKey, grants);
      }
      const { rules, holdings, widest } = grants;
      const permissions = widest.map(({ resource, operation, scope, via }): Permission => ({ resource, operation, reach: this.reach(user.organization, scope), via }));
      profile = { rules, holdings, permissions };
      this.profiles.set(profileKey, profile);
    }
    this.profileOfUser.set(username, profile);
    return profile;
  }

  /** The rules a user holds, sorted: of their roles and their own. */
  rulesOf(username: string): readonly RuleKey[] {
    return this.profile(username)?.rules ?? [];
  }

  /** Each rule a user holds, and how: through which of their roles, and whether as their own rule. */
  holdings(username: string): ReadonlyMap<RuleKey, Holding> {
    return this.profile(username)?.holdings ?? new Map();
  }

  /** Everything a user may do: per resource and operation they hold at any scope, the widest, what it reaches and where from. */
  permissionsOf(username: string): readonly Permission[] {
    return this.profile(username)?.permissions ?? [];
  }

  /** What roles and own rules grant, wherever their holder is: computed once per combination. */
  private computeGrants(user: AccessUser): Grants {
    const holdings = new Map<RuleKey, { roles: RoleRef[]; own: boolean }>();
    const entry = (key: RuleKey): { roles: RoleRef[]; own: boolean } => {
      const found = holdings.get(key) ?? { roles: [], own: false };
      holdings.set(key, found);
      return found;
    };
    for (const key of user.rules) entry(key).own = true;
    for (const ref of user.roles) for (const key of this.roleRules.get(roleRefKey(ref)) ?? []) entry(key).roles.push(ref);
    const rules = [...holdings.keys()].sort(compareStrings);
    const widestOf = new Map<string, RuleTriple>();
    for (const key of rules) {
      const rule = parseRuleKey(key);
      const id = `${rule.resource}:${rule.operation}`;
      const held = widestOf.get(id);
      if (held === undefined || SCOPE_ORDER.indexOf(rule.scope) < SCOPE_ORDER.indexOf(held.scope)) widestOf.set(id, rule);
    }
    const widest = [...widestOf.values()]
      .sort((a, b) => compareStrings(a.resource, b.resource) || OPERATIONS.indexOf(a.operation) - OPERATIONS.indexOf(b.operation))
      .map(({ resource, scope, operation }) => {
        const { roles, own } = holdings.get(keyOf(resource, scope, operation)) as Holding;
        return { resource, operation, scope, via: [...roles.map(roleLabel).sort(compareStrings), ...(own ? ['own rules'] : [])] };
      });
    return { rules, holdings, widest };
  }

  /** The collaborations an organization takes part in, and their members (the organization among them): what collaboration scope reaches. */
  shared(own: string | null): { readonly collaborations: readonly string[]; readonly organizations: readonly string[] } {
    const reach = this.reach(own, 'COLLABORATION');
    return reach.scope === 'COLLABORATION' ? reach : { collaborations: [], organizations: [] };
  }


  /** What a scope reaches for users of an organization; one object per organization and scope, shared by its users. */
  private reach(own: string | null, scope: Scope): Reach {
    if (scope === 'GLOBAL') return GLOBAL_REACH;
    if (scope === 'OWN') return OWN_REACH;
    let reaches = this.reaches.get(own);
    if (reaches === undefined) {
      const collaborations = own === null ? [] : [...(this.collabsOfOrg.get(own) ?? [])].sort(compareStrings);
      const organizations = sortedUnique([...(own === null ? [] : [own]), ...collaborations.flatMap((c) => this.membersOf.get(c) ?? [])]);
      reaches = {
        ORGANIZATION: { scope: 'ORGANIZATION', organizations: own === null ? [] : [own] },
        COLLABORATION: { scope: 'COLLABORATION', collaborations, organizations },
      };
      this.reaches.set(own, reaches);
    }
    return reaches[scope];
  }


  /** The widest of the given scopes at which a user may perform an operation on a resource, or null. */
  widestScope(username: string, resource: string, operation: Operation, among: readonly Scope[] = SCOPE_ORDER): Scope | null {
    const held = this.holdings(username);
    return SCOPE_ORDER.find((scope) => among.includes(scope) && held.has(keyOf(resource, scope, operation))) ?? null;
  }

  /** The names a user gets from the server's list of a kind, sorted; null when the server refuses it. */
  listable(username: string, kind: ListKind): string[] | null {
    const user = this.usersByName.get(username);
    if (user === undefined) return null;
    // A disabled user cannot log in: the server lists them nothing.
    if (user.enabled === false) return [];
    const scope = this.widestScope(username, kind, 'VIEW', LIST_SCOPES[kind]);
    const own = user.organization;
    const { collaborations, organizations } = this.shared(own);
    const sorted = (names: Iterable<string>): string[] => [...new Set(names)].sort(compareStrings);
    const inOrgs = (names: readonly string[], org: string | null): boolean => org !== null && names.includes(org);
    switch (kind) {
      case 'organization':
        if (scope === null) return null;
        return sorted(this.model.organizations.map((o) => o.name)
          .filter((name) => scope === 'GLOBAL' || name === own || (scope === 'COLLABORATION' && organizations.includes(name))));
      case 'collaboration':
        if (scope === null) return null;
        return sorted(this.model.collaborations.filter((c) => scope === 'GLOBAL' || collaborations.includes(c.name)).map((c) => c.name));
      case 'node':
        if (scope === null) return null;
        return sorted(this.model.nodes.filter((n) => scope === 'GLOBAL'
          || (scope === 'COLLABORATION' ? n.collaboration !== null && collaborations.includes(n.collaboration) : n.organization !== null && n.organization === own))
          .map((n) => n.name));
      case 'user':
        // Without a view rule the server lists only the user, and only when asked by name.
        if (scope === null) return null;
        return sorted(this.model.users.filter((u) => scope === 'GLOBAL' || (scope === 'COLLABORATION' ? inOrgs(organizations, u.organization) : u.organization === own))
          .map((u) => u.username));
      case 'role': {
        // Roles are always listed: at least the user's own; roles without organization from organization scope on.
        const held = new Set(user.roles.map(roleRefKey));
        const visible = (role: AccessModel['roles'][number]): boolean => {
          if (scope === 'GLOBAL' || held.has(roleRefKey(role))) return true;
          if (scope === null) return false;
          if (role.organization === null) return true;
          // Collaboration scope: the organizations of the user's organization's collaborations (its own only through them).
          return scope === 'COLLABORATION' ? collaborations.some((c) => (this.membersOf.get(c) ?? []).includes(role.organization as string)) : role.organization === own;
        };
        return sorted(this.model.roles.filter(visible).map(roleLabel));
      }
      default:
        return unreachable(kind);
    }
  }
}

function unreachable(value: never): never {
  throw new Error(`unhandled ${String(value)}`);
}
