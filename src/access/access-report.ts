import {
  OPERATIONS, OPERATION_SPELLINGS, parseRuleKey, readableSpelling, type Operation, type RuleKey,
} from '../catalog/rule-catalog.js';
import { STORE_RESOURCE_PREFIX, type StoreRuleKey } from '../catalog/store-catalog.js';
import { didYouMean } from '../suggest.js';
import { FedctlError } from '../errors.js';
import { compareStrings, roleLabel, sortedUnique, type SignIn } from '../federation.js';
import { ownValue } from '../own-property.js';
import type { AccessItem } from '../plan/plan.js';
import type { StorePermission } from './store-access.js';
import { FederationAccess, reachTargets, type ListKind, type Permission, type Reach } from './user-access.js';

export const LIST_KINDS: readonly ListKind[] = ['organization', 'collaboration', 'node', 'user', 'role'];

/** One permission as a report shows it: spelt as in the config, with what it reaches and where it comes from. */
export interface PermissionLine extends AccessItem {
  readonly via: readonly string[];
}

/** What one user can do. */
export interface UserAccess {
  readonly username: string;
  readonly organization: string | null;
  /** False: the user cannot log in (vantage6 5), and so may do nothing and is listed nothing. */
  readonly enabled: boolean;
  /** vantage6 5: the identity provider they sign in through, and who they are there; absent: with a password, or not known. */
  readonly signIn?: SignIn;
  readonly roles: readonly string[];
  readonly permissions: readonly PermissionLine[];
}

/** What one user can do, and what the server lists to them. */
export interface UserAccessReport extends UserAccess {
  /** By kind, the names the server's list gives the user, sorted; null where it refuses the list. */
  readonly lists: Readonly<Record<ListKind, readonly string[] | null>>;
}

/** A user who can perform an operation on a resource (where asked, on one organization or collaboration). */
export interface HolderLine {
  readonly username: string;
  readonly organization: string | null;
  readonly scope: string;
  readonly on: readonly string[];
  readonly via: readonly string[];
}

/** `task:create`: a resource and an operation, as `--who-can` takes them. */
export interface AccessQuestion {
  readonly resource: string;
  readonly operation: Operation;
}

const line = (p: Permission): PermissionLine => ({
  resource: p.resource, operation: readableSpelling(p.operation), scope: readableSpelling(p.reach.scope), on: reachTargets(p.reach), via: p.via,
});

const storeLine = (access: FederationAccess, p: StorePermission): PermissionLine => ({
  resource: p.resource, operation: p.operation, scope: 'store', on: [access.stores.target(p.store)], via: p.via,
});

/** What one user can do, at the server and at the stores; an error naming the closest user when there is none by that name. */
export function userAccess(access: FederationAccess, username: string): UserAccess {
  const user = access.user(username);
  const storePermissions = access.stores.permissionsOf(username);
  if (user === undefined && storePermissions.length === 0 && access.stores.membershipsOf(username).length === 0) {
    throw new FedctlError('ACCESS_QUERY_INVALID', `there is no user ${JSON.stringify(username)}`,
      didYouMean(username, access.usernames()) ?? 'give a username as the config or the server has it');
  }
  return {
    username,
    organization: user?.organization ?? null,
    enabled: user?.enabled !== false,
    ...(user?.signIn === undefined ? {} : { signIn: user.signIn }),
    roles: [
      ...(user?.roles ?? []).map(roleLabel).sort(compareStrings),
      ...access.stores.membershipsOf(username).flatMap((m) => m.roles.map((role) => `${role} at ${access.stores.target(m.store)}`)).sort(compareStrings),
    ],
    permissions: [...access.permissionsOf(username).map(line), ...storePermissions.map((p) => storeLine(access, p))],
  };
}

/** One user at a glance: their organization, roles, and how many permissions they hold, how many of global scope. */
export interface AccessCounts {
  readonly username: string;
  readonly organization: string | null;
  readonly roles: readonly string[];
  readonly permissions: number;
  readonly global: number;
  /** vantage6 5: the identity provider they sign in through; absent: with a password, or not known. */
  readonly signsInThrough?: string;
}

export function accessCounts({ username, organization, roles, permissions, signIn }: UserAccess): AccessCounts {
  return {
    username, organization, roles, permissions: permissions.length, global: permissions.filter((p) => p.scope === 'global').length,
    ...(signIn === undefined ? {} : { signsInThrough: signIn.provider }),
  };
}

/** What one user can do, and what the server lists to them. */
export function userReport(access: FederationAccess, username: string): UserAccessReport {
  return {
    ...userAccess(access, username),
    lists: Object.fromEntries(LIST_KINDS.map((kind) => [kind, access.listable(username, kind)])) as UserAccessReport['lists'],
  };
}

/**
 * `task:create` checked against the catalogue the federation's server has;
 * `store.review:edit` against the store rules (`review:edit`) of the store
 * release the server links to.
 */
export function parseQuestion(text: string, catalogue: readonly RuleKey[], storeRules: readonly StoreRuleKey[]): AccessQuestion {
  const [resource = '', spelled = '', ...rest] = text.split(':');
  const operation = ownValue(OPERATION_SPELLINGS, spelled.toLowerCase());
  const rules = [
    ...catalogue.map(parseRuleKey),
    ...storeRules.map((key) => {
      const [name = '', op = ''] = key.split(':');
      return { resource: `${STORE_RESOURCE_PREFIX}${name}`, operation: op.toUpperCase() as Operation };
    }),
  ];
  const resources = [...new Set(rules.map((r) => r.resource))];
  if (rest.length > 0 || !text.includes(':')) {
    throw new FedctlError('ACCESS_QUERY_INVALID', `--who-can takes RESOURCE:OPERATION, such as task:create, not ${JSON.stringify(text)}`,
      'operations: view, edit, create, delete, send, receive');
  }
  if (operation === undefined) {
    const operations = OPERATIONS.map(readableSpelling);
    throw new FedctlError('ACCESS_QUERY_INVALID', `there is no operation ${JSON.stringify(spelled)}`, didYouMean(spelled, operations) ?? `operations: ${operations.join(', ')}`);
  }
  if (!resources.includes(resource)) {
    throw new FedctlError('ACCESS_QUERY_INVALID', `the server has no rules for ${JSON.stringify(resource)}`,
      didYouMean(resource, resources) ?? `resources: ${resources.join(', ')}`);
  }
  if (!rules.some((r) => r.resource === resource && r.operation === operation)) {
    const operations = [...new Set(rules.filter((r) => r.resource === resource).map((r) => readableSpelling(r.operation)))];
    throw new FedctlError('ACCESS_QUERY_INVALID', `no rule lets anyone ${readableSpelling(operation)} ${resource}`, `${resource} has: ${operations.join(', ')}`);
  }
  return { resource, operation };
}

/** Whether a reach covers the named organization or collaboration; own scope covers only the user's own objects. */
function covers(reach: Reach, name: string): boolean {
  switch (reach.scope) {
    case 'GLOBAL': return true;
    case 'COLLABORATION': return reach.collaborations.includes(name) || reach.organizations.includes(name);
    case 'ORGANIZATION': return reach.organizations.includes(name);
    default: return false;
  }
}

/**
 * Who can perform an operation on a resource, at which scope and through
 * what; with `on`, only those whose scope reaches that organization or
 * collaboration (an error naming the closest when there is none by that name).
 */
export function whoCan(access: FederationAccess, question: AccessQuestion, on: string | null): HolderLine[] {
  if (question.resource.startsWith(STORE_RESOURCE_PREFIX)) return whoCanAtStores(access, question, on);
  if (on !== null) {
    const names = [...access.model.organizations.map((o) => o.name), ...access.model.collaborations.map((c) => c.name)];
    if (!names.includes(on)) {
      throw new FedctlError('ACCESS_QUERY_INVALID', `--on: there is no organization or collaboration ${JSON.stringify(on)}`,
        didYouMean(on, names) ?? partOf(on, names) ?? 'give the name of an organization or a collaboration');
    }
  }
  const holders: HolderLine[] = [];
  for (const { username, organization } of access.model.users) {
    const permission = access.permissionsOf(username).find((p) => p.resource === question.resource && p.operation === question.operation);
    if (permission === undefined || (on !== null && !covers(permission.reach, on))) continue;
    const { scope, on: targets, via } = line(permission);
    holders.push({ username, organization, scope, on: on === null || permission.reach.scope === 'GLOBAL' ? targets : targets.filter((t) => t.endsWith(` ${JSON.stringify(on)}`)), via });
  }
  return holders.sort((a, b) => compareStrings(a.username, b.username));
}

/**
 * Who holds a store rule, at which stores; with `on`, only at that store (by
 * name or URL) or at the stores whose algorithms that collaboration runs:
 * who can approve what a collaboration can run.
 */
function whoCanAtStores(access: FederationAccess, question: AccessQuestion, on: string | null): HolderLine[] {
  const stores = access.model.algorithmStores ?? [];
  const operation = readableSpelling(question.operation);
  let at = (_url: string): boolean => true;
  if (on !== null) {
    const store = stores.find((st) => st.name === on || st.url === on);
    const collaboration = access.model.collaborations.some((c) => c.name === on);
    if (store === undefined && !collaboration) {
      const names = [...stores.map((st) => st.name), ...access.model.collaborations.map((c) => c.name)];
      throw new FedctlError('ACCESS_QUERY_INVALID', `--on: there is no algorithm store or collaboration ${JSON.stringify(on)}`,
        didYouMean(on, names) ?? partOf(on, names) ?? 'give the name or URL of a linked store, or the name of a collaboration');
    }
    at = store !== undefined ? (url) => url === store.url : (url) => access.stores.serves(url, on);
  }
  const holders: HolderLine[] = [];
  for (const username of access.stores.usernames()) {
    const held = access.stores.permissionsOf(username).filter((p) => p.resource === question.resource && p.operation === operation && at(p.store));
    if (held.length === 0) continue;
    holders.push({
      username, organization: access.user(username)?.organization ?? null, scope: 'store',
      on: held.map((p) => access.stores.target(p.store)),
      // Where the rule is held at one store, ON names it; at several, each role says its store.
      via: sortedUnique(held.flatMap((p) => (held.length === 1 ? p.via : p.via.map((role) => `${role} at ${access.stores.target(p.store)}`)))),
    });
  }
  return holders;
}

/** `did you mean "Colorectal Cancer Survival"?` for `Colorectal`: names that hold what was typed, when few do. */
function partOf(input: string, names: readonly string[]): string | undefined {
  const holding = names.filter((name) => name.toLowerCase().includes(input.toLowerCase()));
  if (holding.length === 0 || holding.length > 3) return undefined;
  return `did you mean ${holding.map((name) => JSON.stringify(name)).join(' or ')}?`;
}
