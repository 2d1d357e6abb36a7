import { describeRule, type RuleKey } from '../catalog/rule-catalog.js';
import { describeRange } from '../catalog/vantage6-versions.js';
import { FedctlError } from '../errors.js';
import {
  ENTITY_KINDS, compareStrings, isForeignRole, signInLabel, storeLabel, nodeKey, roleLabel, roleRefKey, sortRoleRefs, sortedUnique,
  type AlgorithmStore, type DesiredState, type StorePolicyValue, type StoreRole, type StoreUser, type EntityKind, type RenamableKind, type RoleRef,
} from '../federation.js';
import type { ChangeLimit, LiveState } from '../state/live-state.js';
import { DEFAULT_PLAN_OPTIONS, type PlanOptions } from './plan-options.js';
import type {
  BlockedChange, Change, DeleteChange, FieldChange, Plan, PolicyDrift, ScalarValue, UnmanagedEntity, UpdateChange,
} from './plan.js';
import { PLAN_FORMAT_VERSION } from './plan.js';
import { selectTargets } from './select-targets.js';
import { ownValue } from '../own-property.js';
import { refusesValue } from '../state/value-test.js';

function scalarChanges<F extends string>(
  before: Readonly<Record<F, ScalarValue>>,
  after: Readonly<Record<F, ScalarValue>>,
  fields: readonly F[],
): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of fields) {
    const was = before[field];
    const will = after[field];
    if (was !== will) changes.push({ field, before: was, after: will });
  }
  return changes;
}

function setChange(field: string, before: readonly string[], after: readonly string[]): FieldChange[] {
  // Both sorted: the same list is the common case, told without building sets.
  if (before.length === after.length && before.every((item, i) => item === after[i])) return [];
  const was = new Set(before);
  const will = new Set(after);
  const added = after.filter((item) => !was.has(item));
  const removed = before.filter((item) => !will.has(item));
  return added.length === 0 && removed.length === 0 ? [] : [{ field, added, removed }];
}

/**
 * Match desired entities to live ones by identity, then by a previous
 * identity (a declared rename); the live ones left over are unmanaged.
 */
function match<D, L extends { id: number }>(
  desired: readonly D[],
  live: readonly L[],
  desiredKey: (d: D) => string,
  liveKey: (l: L) => string,
  previousKeys: (d: D) => readonly string[] = () => [],
): { pairs: [D, L | undefined][]; unmatched: L[] } {
  const byKey = new Map<string, L>();
  const unmatched: L[] = [];
  for (const row of [...live].sort((a, b) => a.id - b.id)) {
    const key = liveKey(row);
    // Duplicate identities (possible in a hand-edited database): the oldest row is the managed one.
    if (byKey.has(key)) unmatched.push(row);
    else byKey.set(key, row);
  }
  const pairs = desired.map((d): [D, L | undefined] => {
    const key = desiredKey(d);
    const row = byKey.get(key);
    byKey.delete(key);
    return [d, row];
  });
  for (const pair of pairs) {
    if (pair[1] !== undefined) continue;
    for (const previous of previousKeys(pair[0])) {
      const row = byKey.get(previous);
      if (row === undefined) continue;
      byKey.delete(previous);
      pair[1] = row;
      break;
    }
  }
  return { pairs, unmatched: [...unmatched, ...byKey.values()] };
}

const KIND_ORDER: readonly EntityKind[] = ENTITY_KINDS;

/** Live name → config name of the matched entities whose name changes (declared renames). */
function renames<D, L>(pairs: readonly [D, L | undefined][], nameOf: (entity: D | L) => string): Map<string, string> {
  return new Map(pairs.flatMap(([want, have]) => (have !== undefined && nameOf(have) !== nameOf(want) ? [[nameOf(have), nameOf(want)] as const] : [])));
}

/** Does `--rotate-node-key` name this node (by name, or organization/collaboration)? */
function selectsNode(selector: string, node: { name: string; organization: string; collaboration: string }): boolean {
  return selector === node.name || selector === `${node.organization}/${node.collaboration}`;
}

/** The database a plan is for, as the caller knows it; the plan adds the vantage6 releases it looks like. */
export type PlanTarget = Omit<Plan['database'], 'vantage6'>;

/**
 * Compare the desired state with the live one: pure and synchronous. Links
 * (members, rules, roles) compare as sets. Built-in roles are only ever
 * referenced. Passwords are never compared; secrets change only on request.
 */
export function computePlan(desired: DesiredState, live: LiveState, target: PlanTarget, options: PlanOptions = DEFAULT_PLAN_OPTIONS): Plan {
  checkReferences(desired, live);
  const changes: Change[] = [];
  const leftOver: { kind: EntityKind; address: string; id: number; before: DeleteChange['before'] }[] = [];
  // Most pairs are unchanged: the change (and its copy of the row) is built only when a field differs.
  const update = (fields: readonly FieldChange[], change: (fields: readonly FieldChange[]) => UpdateChange): void => {
    if (fields.length > 0) changes.push(change(fields));
  };
  const previous = (kind: RenamableKind, key: string): readonly string[] => ownValue(desired.previousNames[kind], key) ?? [];

  const orgs = match(desired.organizations, live.organizations, (o) => o.name, (o) => o.name, (o) => previous('organization', o.name));
  for (const [want, have] of orgs.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'organization', address: want.name, after: want });
    else update(scalarChanges(have, want, ['name', 'domain', 'address1', 'address2', 'zipcode', 'country']),
      (fields) => ({ action: 'update', kind: 'organization', address: want.name, id: have.id, before: strip(have), after: want, fields }));
  }
  leftOver.push(...orgs.unmatched.map((o) => ({ kind: 'organization' as const, address: o.name, id: o.id, before: strip(o) })));

  // Live rows are compared in the config's names: a renamed organization is the same organization.
  const renamedOrgs = renames(orgs.pairs, (o) => o.name);
  const org = (name: string | null): string | null => (name === null ? null : renamedOrgs.get(name) ?? name);
  const orgNames = (names: readonly string[]): string[] => sortedUnique(names.map((n) => org(n) ?? n));

  const liveCollabs = live.collaborations.map((c) => ({ ...c, members: orgNames(c.members) }));
  const collabs = match(desired.collaborations, liveCollabs, (c) => c.name, (c) => c.name, (c) => previous('collaboration', c.name));
  for (const [want, have] of collabs.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'collaboration', address: want.name, after: want });
    else update([...scalarChanges(have, want, ['name', 'encrypted']), ...setChange('members', have.members, want.members)],
      (fields) => ({ action: 'update', kind: 'collaboration', address: want.name, id: have.id, before: strip(have), after: want, fields }));
  }
  leftOver.push(...collabs.unmatched.map((c) => ({ kind: 'collaboration' as const, address: c.name, id: c.id, before: strip(c) })));
  const renamedCollabs = renames(collabs.pairs, (c) => c.name);
  const collab = (name: string | null): string | null => (name === null ? null : renamedCollabs.get(name) ?? name);

  const rotations = new Set<string>();
  const liveNodes = live.nodes.map((n) => ({ ...n, organization: org(n.organization), collaboration: collab(n.collaboration) }));
  const nodes = match(desired.nodes, liveNodes, nodeKey, (n) => nodeKey({ organization: n.organization ?? '', collaboration: n.collaboration ?? '' }));
  for (const [want, have] of nodes.pairs) {
    if (!have) {
      changes.push({ action: 'create', kind: 'node', address: want.name, after: want });
      continue;
    }
    const rotate = options.rotateNodeKeys.filter((selector) => selectsNode(selector, want));
    rotate.forEach((selector) => rotations.add(selector));
    update([...scalarChanges(have, want, ['name']), ...(rotate.length > 0 ? [{ field: 'api_key' as const, secret: 'rotate' as const }] : [])],
      (fields) => ({ action: 'update', kind: 'node', address: want.name, id: have.id,
        before: { name: have.name, organization: want.organization, collaboration: want.collaboration }, after: want, fields }));
  }
  leftOver.push(...nodes.unmatched.map((n) => ({ kind: 'node' as const, address: n.name, id: n.id,
    before: { name: n.name, organization: n.organization ?? '', collaboration: n.collaboration ?? '' } })));
  const unknownNodes = options.rotateNodeKeys.filter((selector) => !rotations.has(selector));
  if (unknownNodes.length > 0) {
    throw new FedctlError('DATABASE_STATE_INVALID', `--rotate-node-key: no existing node in the config named ${unknownNodes.map((s) => JSON.stringify(s)).join(', ')}`,
      'give a node name, or organization/collaboration, of a node that exists');
  }

  const liveStudies = live.studies.map((st) => ({ ...st, collaboration: collab(st.collaboration) ?? st.collaboration, organizations: orgNames(st.organizations) }));
  const studies = match(desired.studies, liveStudies, (st) => st.name, (st) => st.name, (st) => previous('study', st.name));
  for (const [want, have] of studies.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'study', address: want.name, after: want });
    else update([...scalarChanges(have, want, ['name', 'collaboration']), ...setChange('organizations', have.organizations, want.organizations)],
      (fields) => ({ action: 'update', kind: 'study', address: want.name, id: have.id, before: strip(have), after: want, fields }));
  }
  leftOver.push(...studies.unmatched.map((st) => ({ kind: 'study' as const, address: st.name, id: st.id, before: strip(st) })));

  const customRoles = live.roles.filter((r) => !r.isDefault).map((r) => ({ ...r, organization: org(r.organization) }));
  const roles = match(desired.roles, customRoles, roleRefKey, roleRefKey, (r) =>
    previous('role', roleRefKey(r)).map((name) => roleRefKey({ name, organization: r.organization })));
  for (const [want, have] of roles.pairs) {
    const address = roleLabel(want);
    if (!have) changes.push({ action: 'create', kind: 'role', address, after: want });
    else update([...scalarChanges(have, want, ['name', 'description']), ...setChange('rules', have.rules, want.rules)],
      (fields) => ({ action: 'update', kind: 'role', address, id: have.id, before: stripRole(have), after: want, fields }));
  }
  leftOver.push(...roles.unmatched.map((r) => ({ kind: 'role' as const, address: roleLabel(r), id: r.id, before: stripRole(r) })));
  const renamedRoles = new Map(roles.pairs.flatMap(([want, have]) => (have ? [[roleRefKey(have), { name: want.name, organization: want.organization }] as const] : [])));
  const role = (ref: RoleRef): RoleRef => {
    const translated = { name: ref.name, organization: org(ref.organization) };
    return renamedRoles.get(roleRefKey(translated)) ?? translated;
  };

  const resets = new Set<string>();
  const liveUsers = live.users.map((u) => ({ ...u, organization: org(u.organization), roles: sortRoleRefs(u.roles.map(role)) }));
  const users = match(desired.users, liveUsers, (u) => u.username, (u) => u.username, (u) => previous('user', u.username));
  for (const [want, have] of users.pairs) {
    if (!have) {
      changes.push({ action: 'create', kind: 'user', address: want.username, after: want });
      continue;
    }
    const reset = options.resetPasswords.includes(want.username);
    if (reset) resets.add(want.username);
    update([
      ...scalarChanges(have, want, ['username', 'organization', 'firstname', 'lastname', 'email', 'enabled']),
      ...scalarChanges({ sign_in: signInLabel(have.signIn) }, { sign_in: signInLabel(want.signIn) }, ['sign_in']),
      // A user who signs in through a provider has no password of vantage6's: one they had is removed.
      ...(want.signIn !== undefined && have.holdsPassword === true ? [{ field: 'password' as const, secret: 'remove' as const }] : []),
      ...setChange('roles', have.roles.map(roleLabel), want.roles.map(roleLabel)),
      ...setChange('rules', have.rules, want.rules),
      // An invited user's password is reset by a new invitation; one never sent is owed.
      ...(reset && want.password?.from !== 'invite' ? [{ field: 'password' as const, secret: 'reset' as const }] : []),
      ...(want.password?.from === 'invite' && (reset || have.awaitingInvitation === true)
        ? [{ field: 'invitation' as const, secret: reset ? 'resend' as const : 'send' as const }] : []),
      // Two-factor authentication is kept for a user made already too (the other required actions are done once, at the first login).
      ...(want.requiredActions?.includes('configure_totp') && have.twoFactor === false ? [{ field: 'required_actions', added: ['configure_totp'], removed: [] }] : []),
    ], (fields) => ({ action: 'update', kind: 'user', address: want.username, id: have.id, before: strip(have), after: want, fields }));
  }
  leftOver.push(...users.unmatched.map((u) => ({ kind: 'user' as const, address: u.username, id: u.id, before: strip(u) })));
  const unknownUsers = options.resetPasswords.filter((username) => !resets.has(username));
  if (unknownUsers.length > 0) {
    throw new FedctlError('DATABASE_STATE_INVALID', `--reset-password: no existing user in the config named ${unknownUsers.map((u) => JSON.stringify(u)).join(', ')}`,
      'a password is set when a user is created; reset it only for users that exist');
  }

  // Stores are compared in the config's names of collaborations, as the other links are.
  const liveStores = live.algorithmStores.map((st) => ({ ...st, collaborations: sortedUnique(st.collaborations.map((c) => collab(c) ?? c)) }));
  const stores = match(desired.algorithmStores, liveStores, (st) => st.url, (st) => st.url);
  for (const [want, have] of stores.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'algorithm_store', address: want.url, after: want });
    // A store that comes to serve every collaboration serves those it served too: no collaboration is taken out.
    else update([...scalarChanges(have, want, ['name', 'everyCollaboration']), ...(want.everyCollaboration ? [] : setChange('collaborations', have.collaborations, want.collaborations))],
      (fields) => ({ action: 'update', kind: 'algorithm_store', address: want.url, id: have.id, before: stripStore(have), after: want, fields }));
  }
  leftOver.push(...stores.unmatched.map((st) => ({ kind: 'algorithm_store' as const, address: st.url, id: st.id, before: stripStore(st) })));

  // Identity providers are compared in the config's names of organizations; what Keycloak keeps otherwise than their metadata says is drift.
  const liveProviders = (live.identityProviders ?? []).map((p) => ({ ...p, organizations: orgNames(p.organizations) }));
  const providers = match(desired.identityProviders, liveProviders, (p) => p.alias, (p) => p.alias);
  for (const [want, have] of providers.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'identity_provider', address: want.alias, after: want });
    else update([
      ...scalarChanges(have, want, ['type', 'displayName', 'metadata', 'clientId', 'clientSecret', 'required', 'onLoginPage', 'enabled']),
      ...setChange('organizations', have.organizations, want.organizations),
      ...setChange('fills', have.fills, want.fills),
      ...setChange('drift', have.drift, want.drift),
    ], (fields) => ({ action: 'update', kind: 'identity_provider', address: want.alias, id: have.id, before: strip(have), after: want, fields }));
  }
  leftOver.push(...providers.unmatched.map((p) => ({ kind: 'identity_provider' as const, address: p.alias, id: p.id, before: strip(p) })));

  // A store's own roles and users, of the stores the config manages them of (only those were read). Built-in store roles are only referenced.
  const storeKey = (store: string, name: string): string => JSON.stringify([store, name]);
  const storeRoles = match(desired.storeRoles, live.storeRoles.filter((r) => !r.isDefault), (r) => storeKey(r.store, r.name), (r) => storeKey(r.store, r.name));
  for (const [want, have] of storeRoles.pairs) {
    const address = storeLabel(want.name, want.store);
    if (!have) changes.push({ action: 'create', kind: 'store_role', address, after: want });
    else update([...scalarChanges(have, want, ['description']), ...setChange('rules', have.rules, want.rules)],
      (fields) => ({ action: 'update', kind: 'store_role', address, id: have.id, before: stripStoreRole(have), after: want, fields }));
  }
  const managesRoles = new Set(desired.managedStores.filter((m) => m.roles).map((m) => m.url));
  leftOver.push(...storeRoles.unmatched.filter((r) => managesRoles.has(r.store))
    .map((r) => ({ kind: 'store_role' as const, address: storeLabel(r.name, r.store), id: r.id, before: stripStoreRole(r) })));
  const storeUsers = match(desired.storeUsers, live.storeUsers, (u) => storeKey(u.store, u.username), (u) => storeKey(u.store, u.username));
  for (const [want, have] of storeUsers.pairs) {
    const address = storeLabel(want.username, want.store);
    if (!have) changes.push({ action: 'create', kind: 'store_user', address, after: want });
    else update(setChange('roles', have.roles, want.roles), (fields) => ({ action: 'update', kind: 'store_user', address, id: have.id, before: stripStoreUser(have), after: want, fields }));
  }
  const managesUsers = new Set(desired.managedStores.filter((m) => m.users).map((m) => m.url));
  leftOver.push(...storeUsers.unmatched.filter((u) => managesUsers.has(u.store))
    .map((u) => ({ kind: 'store_user' as const, address: storeLabel(u.username, u.store), id: u.id, before: stripStoreUser(u) })));
  const storeAccounts = new Set(live.storeUsers.filter((u) => u.account).map((u) => storeLabel(u.username, u.store)));

  const unmanaged: UnmanagedEntity[] = [];
  const deletes: DeleteChange[] = [];
  const { owned } = live.server;
  const serverOwned = (kind: EntityKind, address: string): boolean =>
    (kind === 'organization' && address === owned.organization) || (kind === 'user' && address === owned.user);
  for (const row of leftOver) {
    if (serverOwned(row.kind, row.address)) unmanaged.push({ kind: row.kind, address: row.address, serverOwned: true });
    else if ((row.kind === 'user' && row.address === owned.account) || (row.kind === 'store_user' && storeAccounts.has(row.address))) {
      unmanaged.push({ kind: row.kind, address: row.address, account: true });
    }
    else if (options.prune[row.kind]) deletes.push({ action: 'delete', kind: row.kind, address: row.address, id: row.id, before: row.before } as DeleteChange);
    else unmanaged.push({ kind: row.kind, address: row.address });
  }
  const blocked = [...blockedDeletes(deletes, live, stores.unmatched), ...beyondLimits([...changes, ...deletes], live, desired)];
  const blockedKeys = new Set(blocked.map((b) => `${b.action}\u0000${b.kind}\u0000${b.address}`));
  const isBlocked = (c: Change): boolean => blockedKeys.size > 0 && blockedKeys.has(`${c.action}\u0000${c.kind}\u0000${c.address}`);
  changes.push(...deletes);
  const kept = changes.filter((c) => !isBlocked(c));

  const order = (change: Pick<Change, 'action' | 'kind'>): number =>
    change.action === 'delete' ? 2 * KIND_ORDER.length - KIND_ORDER.indexOf(change.kind) : KIND_ORDER.indexOf(change.kind);
  kept.sort((a, b) => order(a) - order(b) || compareStrings(a.address, b.address));
  blocked.sort((a, b) => order(a) - order(b) || compareStrings(a.address, b.address));
  unmanaged.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || compareStrings(a.address, b.address));

  const unknown = describeUnknown(live);
  const database = { ...target, vantage6: live.server.release ?? describeRange(live.server.versions), ...(unknown.length > 0 ? { unknown } : {}) };
  const drift = policyDrift(desired, live);
  const full: Plan = {
    formatVersion: PLAN_FORMAT_VERSION, database, changes: kept, unmanaged, blocked, summary: summarize(kept), ...(drift.length > 0 ? { policyDrift: drift } : {}),
  };
  const plan = options.targets === null ? full : selectTargets(full, desired, options.targets);
  return { ...plan, summary: summarize(plan.changes) };
}

/** The policies the config names that a store has otherwise, in the config's order of stores and policies. */
function policyDrift(desired: DesiredState, live: LiveState): PolicyDrift[] {
  const same = (a: StorePolicyValue | null, b: StorePolicyValue): boolean => JSON.stringify(a) === JSON.stringify(b);
  return desired.storePolicies.flatMap(({ store, policies }) => {
    const read = live.storePolicies.find((p) => p.store === store);
    const have = read?.policies ?? {};
    return Object.entries(policies).flatMap(([policy, config]) => {
      const value = ownValue(have, policy) ?? null;
      // A policy the store did not show (not yet linked, it shows only its public ones) is not known to differ.
      if (value === null && read?.onlyPublic === true) return [];
      return same(value, config) ? [] : [{ store, policy, live: value, config }];
    });
  });
}

function summarize(changes: readonly Change[]): Plan['summary'] {
  const count = (action: Change['action']): number => changes.filter((c) => c.action === action).length;
  return { add: count('create'), change: count('update'), destroy: count('delete') };
}

/** What the database has that no release fedctl knows has, as the plan names it. */
function describeUnknown(live: LiveState): string[] {
  const { tables, columns, rules } = live.server.unknown;
  return [
    ...tables.map((table) => `table ${table}`),
    ...columns.map((column) => `column ${column}`),
    ...rules.map((key) => `rule ${describeRule(key)}`),
  ];
}

/** Whether a backend's stated limit covers a change. */
function limitApplies(limit: ChangeLimit, change: Change): boolean {
  if (limit.kind !== change.kind || (limit.address !== undefined && limit.address !== change.address)) return false;
  const what = limit.change;
  const covered = what === 'create' || what === 'delete' ? change.action === what
    : what === 'link' ? change.action === 'update' && change.fields.some((f) => 'added' in f && f.added.length > 0)
      : what === 'shrink' ? change.action === 'update' && change.fields.some((f) => 'added' in f && f.removed.length > f.added.length)
      // Removing the password of a user who signs in through a provider is Keycloak's (its component's), not the backend's.
      : change.action === 'update' && change.fields.some((f) => f.field === what.field && !('secret' in f && f.secret === 'remove'));
  if (!covered) return false;
  if (limit.foreignRoles && foreignRolesGiven(change).length === 0) return false;
  const entity = (change.action === 'delete' ? change.before : change.after) as unknown as Readonly<Record<string, unknown>>;
  if (limit.unlessWith !== undefined && entity[limit.unlessWith] !== undefined) return false;
  if (limit.refusedValue !== undefined) {
    const value = entity[limit.refusedValue.field];
    return typeof value === 'string' && limit.refusedValue.tests.some((test) => refusesValue(test, value));
  }
  if (limit.lacking === undefined) return true;
  return entity[limit.lacking] === null || entity[limit.lacking] === undefined;
}

/** The roles a change newly gives a user that are of another organization than the user's. */
function foreignRolesGiven(change: Change): RoleRef[] {
  if (change.kind !== 'user' || change.action === 'delete') return [];
  const roles = change.action === 'create' ? change.after.roles
    : change.after.roles.filter((ref) => change.fields.some((f) => 'added' in f && f.field === 'roles' && f.added.includes(roleLabel(ref))));
  return roles.filter((ref) => isForeignRole(ref, change.after.organization));
}

/** A limit's reason, with the value it refuses, or the roles it is about when it is about roles of another organization. */
function limitReason(limit: ChangeLimit, change: Change): string {
  if (limit.refusedValue !== undefined && change.action !== 'delete') {
    const { field } = limit.refusedValue;
    return `${field} ${JSON.stringify((change.after as unknown as Readonly<Record<string, unknown>>)[field])}: ${limit.reason}`;
  }
  if (!limit.foreignRoles || change.kind !== 'user' || change.action === 'delete') return limit.reason;
  const roles = foreignRolesGiven(change).map((ref) => `${JSON.stringify(ref.name)} of ${JSON.stringify(ref.organization)}`);
  return `${limit.reason}: role ${roles.join(', role ')} is not of the user's organization ${JSON.stringify(change.after.organization)}`;
}

/** The rules a change gives: a role's new rules, a user's new rules and the rules of their new roles. */
function grantedRules(change: Change, rulesOfRole: (label: string) => readonly RuleKey[]): RuleKey[] {
  if (change.action === 'delete' || (change.kind !== 'role' && change.kind !== 'user')) return [];
  if (change.action === 'create') {
    return change.kind === 'role' ? [...change.after.rules] : [...change.after.rules, ...change.after.roles.flatMap((ref) => rulesOfRole(roleLabel(ref)))];
  }
  return change.fields.flatMap((field) => ('added' in field
    ? field.field === 'roles' ? field.added.flatMap(rulesOfRole) : field.field === 'rules' ? field.added : []
    : []));
}

/**
 * Changes the backend cannot make (the limits it states: a column the
 * database requires, what an API does not offer) and grants of rules that
 * fedctl's account does not hold: refused in the plan, before anything is done.
 */
function beyondLimits(changes: readonly Change[], live: LiveState, desired: DesiredState): BlockedChange[] {
  const { limits, grantable } = live.server;
  if (limits.length === 0 && grantable === null) return [];
  const held = new Set(grantable ?? []);
  const roleRules = new Map([...live.roles, ...desired.roles].map((role) => [roleLabel(role), role.rules]));
  const rulesOfRole = (label: string): readonly RuleKey[] => roleRules.get(label) ?? [];
  const blocked: BlockedChange[] = [];
  for (const change of changes) {
    const reasons = limits.filter((limit) => limitApplies(limit, change)).map((limit) => limitReason(limit, change));
    const ungrantable = grantable === null ? [] : sortedUnique(grantedRules(change, rulesOfRole).filter((key) => !held.has(key)));
    if (ungrantable.length > 0) {
      const named = ungrantable.slice(0, 5).map(describeRule).join(', ');
      const more = ungrantable.length > 5 ? ` and ${ungrantable.length - 5} more` : '';
      reasons.push(`fedctl's account does not hold ${named}${more}, and vantage6 lets an account grant only the rules it holds`);
    }
    if (reasons.length > 0) blocked.push({ action: change.action, kind: change.kind, address: change.address, reason: [...new Set(reasons)].join('; ') });
  }
  return blocked;
}

/**
 * Deletes that would orphan or destroy what fedctl does not manage: runtime
 * data (tasks, runs) that refers to the object, or objects that refer to it
 * and are kept.
 */
function blockedDeletes(deletes: readonly DeleteChange[], live: LiveState, unmanagedStores: readonly AlgorithmStore[]): BlockedChange[] {
  const storesAfter = unmanagedStores.filter((store) => !deletes.some((d) => d.kind === 'algorithm_store' && d.address === store.url));
  const inUse = new Set(live.inUse.map((u) => `${u.kind}\u0000${u.id}`));
  const deleted = (kind: EntityKind, id: number): boolean => deletes.some((d) => d.kind === kind && d.id === id);
  const blocked: BlockedChange[] = [];
  for (const change of deletes) {
    const reasons: string[] = [];
    if (inUse.has(`${change.kind}\u0000${change.id}`)) {
      reasons.push(change.kind === 'node' ? 'its organization has runs in its collaboration' : 'tasks or runs refer to it');
    }
    if (change.kind === 'organization') {
      const name = change.before.name;
      const keptUsers = live.users.filter((u) => u.organization === name && !deleted('user', u.id)).length;
      const keptNodes = live.nodes.filter((n) => n.organization === name && !deleted('node', n.id)).length;
      const keptRoles = live.roles.filter((r) => r.organization === name && !deleted('role', r.id)).length;
      if (keptUsers + keptNodes + keptRoles > 0) reasons.push(`it still has ${keptUsers} user(s), ${keptNodes} node(s) and ${keptRoles} role(s) that are kept`);
    }
    if (change.kind === 'collaboration') {
      const name = change.before.name;
      const keptNodes = live.nodes.filter((n) => n.collaboration === name && !deleted('node', n.id)).length;
      const keptStudies = live.studies.filter((s) => s.collaboration === name && !deleted('study', s.id)).length;
      if (keptNodes + keptStudies > 0) reasons.push(`it still has ${keptNodes} node(s) and ${keptStudies} study(ies) that are kept`);
      const servedBy = storesAfter.filter((store) => store.collaborations.includes(name)).map((store) => store.url);
      if (servedBy.length > 0) reasons.push(`algorithm store ${servedBy.join(', ')} still serves it, and is not in the config: add the store to the config, or prune algorithm stores`);
    }
    if (reasons.length > 0) blocked.push({ action: 'delete', kind: change.kind, address: change.address, reason: reasons.join('; ') });
  }
  return blocked;
}

/** A live row without its id, as the `before` of an update. */
function strip<T extends { id: number }>(row: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = row;
  return rest;
}

function stripStore({ url, name, everyCollaboration, collaborations }: AlgorithmStore): AlgorithmStore {
  return { url, name, everyCollaboration, collaborations };
}

function stripStoreUser({ store, username, roles }: StoreUser): StoreUser {
  return { store, username, roles };
}

function stripStoreRole({ store, name, description, rules }: StoreRole): StoreRole {
  return { store, name, description, rules };
}

function stripRole<T extends { id: number; isDefault: boolean }>(row: T): Omit<T, 'id' | 'isDefault'> {
  const { id: _id, isDefault: _isDefault, ...rest } = row;
  return rest;
}

/**
 * What the config needs from the database that fedctl does not manage: the
 * rules and built-in roles it references, and names that must stay unique
 * against rows fedctl leaves alone.
 */
function checkReferences(desired: DesiredState, live: LiveState): void {
  const problems: string[] = [];
  const rules = new Set(live.rules.map((rule) => rule.key));
  const wanted = new Set([...desired.roles.flatMap((r) => r.rules), ...desired.users.flatMap((u) => u.rules)]);
  for (const key of wanted) if (!rules.has(key)) problems.push(`rule ${key} is not in the database's rule catalogue`);

  const defaults = new Set(live.roles.filter((r) => r.isDefault).map((r) => r.name));
  const customKeys = new Set(desired.roles.map(roleRefKey));
  for (const user of desired.users) {
    for (const ref of user.roles) {
      if (!customKeys.has(roleRefKey(ref)) && !defaults.has(ref.name)) {
        problems.push(`user ${JSON.stringify(user.username)} has built-in role ${JSON.stringify(ref.name)}, which the database lacks`);
      }
    }
  }

  const desiredNodes = new Map(desired.nodes.map((n) => [n.name, nodeKey(n)]));
  // A node of a renamed organization or collaboration is the same node under its new names.
  const newName = (kind: 'organization' | 'collaboration', name: string | null): string => {
    const renamed = Object.entries(desired.previousNames[kind] ?? {}).find(([, old]) => old.includes(name ?? ''));
    return renamed?.[0] ?? name ?? '';
  };
  for (const node of live.nodes) {
    const want = desiredNodes.get(node.name);
    if (want !== undefined && want !== nodeKey({ organization: newName('organization', node.organization), collaboration: newName('collaboration', node.collaboration) })) {
      problems.push(`node name ${JSON.stringify(node.name)} is taken by another node (id ${node.id}); node names are unique`);
    }
  }
  const desiredEmails = new Map(desired.users.flatMap((u) => (u.email === null ? [] : [[u.email, u.username] as const])));
  const claimedUsernames = new Set(desired.users.flatMap((u) => [u.username, ...(ownValue(desired.previousNames.user, u.username) ?? [])]));
  for (const user of live.users) {
    const owner = user.email === null ? undefined : desiredEmails.get(user.email);
    if (owner !== undefined && owner !== user.username && !claimedUsernames.has(user.username)) {
      problems.push(`email ${JSON.stringify(user.email)} of user ${JSON.stringify(owner)} belongs to user ${JSON.stringify(user.username)}, which is not in the config`);
    }
  }
  if (problems.length > 0) {
    throw new FedctlError('DATABASE_STATE_INVALID', `the config cannot be applied to this database: ${problems.join('; ')}`,
      'change the config, or fix the database');
  }
}

