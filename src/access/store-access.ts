import { STORE_RESOURCE_PREFIX, USER_LIST_POLICIES, type StoreRuleKey } from '../catalog/store-catalog.js';
import { compareStrings, type AlgorithmStore, type StorePolicies, type StoreRole, type StoreUser } from '../federation.js';

/**
 * What access is computed from at the algorithm stores: the links (which
 * collaborations a store serves), the stores' roles with their rules
 * (built-in ones included), their users with their roles, and their
 * policies that list who may review or assign reviews. Only the stores whose
 * users the config manages have users here; absent: none known.
 */
export interface StoreAccessModel {
  readonly algorithmStores?: readonly Pick<AlgorithmStore, 'url' | 'name' | 'everyCollaboration' | 'collaborations'>[];
  readonly storeRoles?: readonly Pick<StoreRole, 'store' | 'name' | 'rules'>[];
  readonly storeUsers?: readonly Pick<StoreUser, 'store' | 'username' | 'roles'>[];
  readonly storePolicies?: readonly StorePolicies[];
}

/** What one user may do at one store: one store rule, and the store roles it comes through. */
export interface StorePermission {
  /** The store's URL. */
  readonly store: string;
  /** `store.review`. */
  readonly resource: string;
  /** `edit`: a store's operations are spelt as plans spell the server's. */
  readonly operation: string;
  /** Store role names, sorted. */
  readonly via: readonly string[];
}

const NONE: readonly StorePermission[] = [];

/**
 * Access at the algorithm stores: per user (a store user is the server user
 * of that name, on 4.x and 5.x alike) the store rules they hold at each
 * store, and through which store roles; where the store's policy lists who
 * may review (or assign reviews), only those listed hold that rule. Pure;
 * computed once per user.
 */
export class StoreAccess {
  private readonly roleRules = new Map<string, readonly StoreRuleKey[]>();
  private readonly memberships = new Map<string, Pick<StoreUser, 'store' | 'roles'>[]>();
  private readonly names = new Map<string, string>();
  private readonly links = new Map<string, Pick<AlgorithmStore, 'everyCollaboration' | 'collaborations'>>();
  private readonly computed = new Map<string, readonly StorePermission[]>();
  /** Per store and narrowed rule, the users a policy lets hold it. */
  private readonly listed = new Map<string, ReadonlySet<string>>();

  /** `disabled`: users who cannot log in, and so do nothing at any store. */
  constructor(model: StoreAccessModel, private readonly disabled: ReadonlySet<string> = new Set()) {
    for (const store of model.algorithmStores ?? []) {
      this.names.set(store.url, store.name);
      this.links.set(store.url, store);
    }
    for (const role of model.storeRoles ?? []) this.roleRules.set(roleKey(role.store, role.name), role.rules);
    for (const { store, policies } of model.storePolicies ?? []) {
      for (const [policy, rule] of Object.entries(USER_LIST_POLICIES)) {
        const users = policies[policy];
        if (Array.isArray(users)) this.listed.set(roleKey(store, rule), new Set(users));
      }
    }
    for (const user of model.storeUsers ?? []) this.memberships.set(user.username, [...(this.memberships.get(user.username) ?? []), user]);
  }

  /** Users known at some store, sorted. */
  usernames(): string[] {
    return [...this.memberships.keys()].sort(compareStrings);
  }

  /** The store roles a user holds, per store. */
  membershipsOf(username: string): readonly Pick<StoreUser, 'store' | 'roles'>[] {
    return this.memberships.get(username) ?? [];
  }

  /** The store's name, where the server links it. */
  nameOf(url: string): string | undefined {
    return this.names.get(url);
  }

  /** `store "IKNL reviewed algorithms"`: how reports name a store (by URL when the server does not link it). */
  target(url: string): string {
    return storeTarget(this.names.get(url) ?? url);
  }

  /** Whether the users of a collaboration may run the store's algorithms. */
  serves(url: string, collaboration: string): boolean {
    const link = this.links.get(url);
    return link !== undefined && (link.everyCollaboration || link.collaborations.includes(collaboration));
  }

  /** What a user may do at the stores: by store, then resource and operation. */
  permissionsOf(username: string): readonly StorePermission[] {
    const known = this.computed.get(username);
    if (known !== undefined) return known;
    const memberships = this.memberships.get(username);
    let permissions = NONE;
    if (memberships !== undefined && !this.disabled.has(username)) {
      const found: StorePermission[] = [];
      for (const { store, roles } of memberships) {
        const via = new Map<StoreRuleKey, string[]>();
        for (const role of roles) for (const rule of this.roleRules.get(roleKey(store, role)) ?? []) via.set(rule, [...(via.get(rule) ?? []), role]);
        for (const [rule, held] of via) {
          // A store's policy may name who alone reviews, or assigns reviews, among those whose roles let them.
          if (this.listed.get(roleKey(store, rule))?.has(username) === false) continue;
          const [resource = '', operation = ''] = rule.split(':');
          found.push({ store, resource: `${STORE_RESOURCE_PREFIX}${resource}`, operation, via: held.sort(compareStrings) });
        }
      }
      permissions = found.sort((a, b) => compareStrings(this.names.get(a.store) ?? a.store, this.names.get(b.store) ?? b.store)
        || compareStrings(a.resource, b.resource) || compareStrings(a.operation, b.operation));
    }
    this.computed.set(username, permissions);
    return permissions;
  }
}

export const storeTarget = (name: string): string => `store ${JSON.stringify(name)}`;

const roleKey = (store: string, name: string): string => `${store}\u0000${name}`;
