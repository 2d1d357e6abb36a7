import type { Operation, RuleKey, Scope } from '../catalog/rule-catalog.js';
import { compareStrings, roleRefKey, sortedUnique, type Collaboration, type Role, type User } from '../federation.js';

/**
 * A federation as access is computed on it: the config (with the built-in
 * roles of its release) or the live state. Every role a user can hold is
 * among `roles`, built-in ones with their rules.
 */
export interface AccessModel {
  readonly organizations: readonly { readonly name: string }[];
  readonly collaborations: readonly Pick<Collaboration, 'name' | 'members'>[];
  readonly nodes: readonly { readonly name: string; readonly organization: string | null; readonly collaboration: string | null }[];
  readonly roles: readonly Pick<Role, 'name' | 'organization' | 'rules'>[];
  readonly users: readonly Pick<User, 'username' | 'organization' | 'roles' | 'rules'>[];
}

/** What a user can list: by kind, the names the server returns, or null when it refuses the list. */
export type ListKind = 'organization' | 'collaboration' | 'node';

/** Widest first: a wider scope holds what the narrower ones reach. */
const SCOPE_ORDER: readonly Scope[] = ['GLOBAL', 'COLLABORATION', 'ORGANIZATION', 'OWN'];

/**
 * The scopes the server consults when a user lists a kind, widest first, as
 * vantage6 4.x does: organizations and nodes by global, collaboration and
 * organization scope; collaborations by global and organization scope only.
 */
const LIST_SCOPES: Readonly<Record<ListKind, readonly Scope[]>> = {
  organization: ['GLOBAL', 'COLLABORATION', 'ORGANIZATION'],
  collaboration: ['GLOBAL', 'ORGANIZATION'],
  node: ['GLOBAL', 'COLLABORATION', 'ORGANIZATION'],
};

/**
 * Access computed over one federation: each user's rules (of their roles and
 * their own) and what those reach. Pure; the same for the config and the
 * live state.
 */
export class FederationAccess {
  private readonly rulesByUser = new Map<string, ReadonlySet<RuleKey>>();

  private readonly usersByName = new Map<string, AccessModel['users'][number]>();

  constructor(private readonly model: AccessModel) {
    const roleRules = new Map(model.roles.map((role) => [roleRefKey(role), role.rules]));
    for (const user of model.users) {
      this.usersByName.set(user.username, user);
      this.rulesByUser.set(user.username, new Set([...user.rules, ...user.roles.flatMap((ref) => roleRules.get(roleRefKey(ref)) ?? [])]));
    }
  }

  /** The rules a user holds, sorted: of their roles and their own. */
  rulesOf(username: string): RuleKey[] {
    return sortedUnique(this.rulesByUser.get(username) ?? []);
  }

  /** The widest scope of the given scopes at which a user may perform an operation on a resource, or null. */
  widestScope(username: string, resource: string, operation: Operation, among: readonly Scope[] = SCOPE_ORDER): Scope | null {
    const rules = this.rulesByUser.get(username);
    if (rules === undefined) return null;
    for (const scope of SCOPE_ORDER) {
      if (among.includes(scope) && rules.has(`${resource}:${scope}:${operation}`)) return scope;
    }
    return null;
  }

  /** The names a user gets from the server's list of a kind, sorted; null when the server refuses it. */
  listable(username: string, kind: ListKind): string[] | null {
    const user = this.usersByName.get(username);
    if (user === undefined) return null;
    const scope = this.widestScope(username, kind, 'VIEW', LIST_SCOPES[kind]);
    if (scope === null) return null;
    const own = user.organization;
    const shared = new Set(this.model.collaborations.filter((c) => own !== null && c.members.includes(own)).map((c) => c.name));
    const reach = (organization: string | null, collaboration: string | null): boolean => {
      if (scope === 'GLOBAL') return true;
      if (scope === 'ORGANIZATION') return organization !== null && organization === own;
      return collaboration !== null && shared.has(collaboration);
    };
    switch (kind) {
      case 'organization': {
        // Collaboration scope: the members of the user's collaborations, and the user's own organization.
        const members = new Set(this.model.collaborations.filter((c) => shared.has(c.name)).flatMap((c) => c.members));
        return this.model.organizations.map((o) => o.name)
          .filter((name) => scope === 'GLOBAL' || name === own || (scope === 'COLLABORATION' && members.has(name))).sort(compareStrings);
      }
      case 'collaboration':
        return this.model.collaborations.filter((c) => scope === 'GLOBAL' || shared.has(c.name)).map((c) => c.name).sort(compareStrings);
      case 'node':
        return this.model.nodes.filter((n) => reach(n.organization, n.collaboration)).map((n) => n.name).sort(compareStrings);
      default:
        return unreachable(kind);
    }
  }
}

function unreachable(kind: never): never {
  throw new Error(`unknown kind ${String(kind)}`);
}
