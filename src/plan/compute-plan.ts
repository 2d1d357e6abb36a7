import { FedctlError } from '../errors.js';
import {
  compareStrings, nodeKey, roleRefKey,
  type DesiredState, type EntityKind, type RoleRef,
} from '../federation.js';
import type { LiveState } from '../state/live-state.js';
import type { Change, CreateChange, FieldChange, Plan, ScalarValue, UnmanagedEntity, UpdateChange } from './plan.js';
import { PLAN_FORMAT_VERSION } from './plan.js';

/** How a role is shown: its name, and its organization when it has one. */
export function roleLabel(ref: RoleRef): string {
  return ref.organization === null ? ref.name : `${ref.name} (${ref.organization})`;
}

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
  const was = new Set(before);
  const will = new Set(after);
  const added = after.filter((item) => !was.has(item));
  const removed = before.filter((item) => !will.has(item));
  return added.length === 0 && removed.length === 0 ? [] : [{ field, added, removed }];
}

/** Match desired entities to live ones by identity; the rest of the live ones are unmanaged. */
function match<D, L extends { id: number }>(
  desired: readonly D[],
  live: readonly L[],
  desiredKey: (d: D) => string,
  liveKey: (l: L) => string,
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
  return { pairs, unmatched: [...unmatched, ...byKey.values()] };
}

const KIND_ORDER: readonly EntityKind[] = ['organization', 'collaboration', 'node', 'study', 'role', 'user'];

/**
 * Compare the desired state with the live one: pure and synchronous. Links
 * (members, rules, roles) compare as sets. Built-in roles are only ever
 * referenced. Passwords are never compared.
 */
export function computePlan(desired: DesiredState, live: LiveState, database: Plan['database']): Plan {
  checkReferences(desired, live);
  const changes: Change[] = [];
  const unmanaged: UnmanagedEntity[] = [];
  const update = (change: UpdateChange): void => {
    if (change.fields.length > 0) changes.push(change);
  };

  const orgs = match(desired.organizations, live.organizations, (o) => o.name, (o) => o.name);
  for (const [want, have] of orgs.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'organization', address: want.name, after: want });
    else update({ action: 'update', kind: 'organization', address: want.name, id: have.id, before: strip(have), after: want,
      fields: scalarChanges(have, want, ['domain', 'address1', 'address2', 'zipcode', 'country']) });
  }
  unmanaged.push(...orgs.unmatched.map((o) => ({ kind: 'organization' as const, address: o.name })));

  const collabs = match(desired.collaborations, live.collaborations, (c) => c.name, (c) => c.name);
  for (const [want, have] of collabs.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'collaboration', address: want.name, after: want });
    else update({ action: 'update', kind: 'collaboration', address: want.name, id: have.id, before: strip(have), after: want,
      fields: [...scalarChanges(have, want, ['encrypted']), ...setChange('members', have.members, want.members)] });
  }
  unmanaged.push(...collabs.unmatched.map((c) => ({ kind: 'collaboration' as const, address: c.name })));

  const nodes = match(desired.nodes, live.nodes, nodeKey, (n) => nodeKey({ organization: n.organization ?? '', collaboration: n.collaboration ?? '' }));
  for (const [want, have] of nodes.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'node', address: want.name, after: want });
    else update({ action: 'update', kind: 'node', address: want.name, id: have.id,
      before: { name: have.name, organization: want.organization, collaboration: want.collaboration }, after: want,
      fields: scalarChanges(have, want, ['name']) });
  }
  unmanaged.push(...nodes.unmatched.map((n) => ({ kind: 'node' as const, address: n.name })));

  const studies = match(desired.studies, live.studies, (s) => s.name, (s) => s.name);
  for (const [want, have] of studies.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'study', address: want.name, after: want });
    else update({ action: 'update', kind: 'study', address: want.name, id: have.id, before: strip(have), after: want,
      fields: [...scalarChanges(have, want, ['collaboration']), ...setChange('organizations', have.organizations, want.organizations)] });
  }
  unmanaged.push(...studies.unmatched.map((s) => ({ kind: 'study' as const, address: s.name })));

  const customRoles = live.roles.filter((r) => !r.isDefault);
  const roles = match(desired.roles, customRoles, roleRefKey, roleRefKey);
  for (const [want, have] of roles.pairs) {
    const address = roleLabel(want);
    if (!have) changes.push({ action: 'create', kind: 'role', address, after: want });
    else update({ action: 'update', kind: 'role', address, id: have.id, before: stripRole(have), after: want,
      fields: [...scalarChanges(have, want, ['description']), ...setChange('rules', have.rules, want.rules)] });
  }
  unmanaged.push(...roles.unmatched.map((r) => ({ kind: 'role' as const, address: roleLabel(r) })));

  const users = match(desired.users, live.users, (u) => u.username, (u) => u.username);
  for (const [want, have] of users.pairs) {
    if (!have) changes.push({ action: 'create', kind: 'user', address: want.username, after: want });
    else update({ action: 'update', kind: 'user', address: want.username, id: have.id, before: strip(have), after: want,
      fields: [
        ...scalarChanges(have, want, ['organization', 'firstname', 'lastname', 'email']),
        ...setChange('roles', have.roles.map(roleLabel), want.roles.map(roleLabel)),
        ...setChange('rules', have.rules, want.rules),
      ] });
  }
  unmanaged.push(...users.unmatched.map((u) => ({ kind: 'user' as const, address: u.username })));

  const order = (kind: EntityKind): number => KIND_ORDER.indexOf(kind);
  changes.sort((a, b) => order(a.kind) - order(b.kind) || compareStrings(a.address, b.address));
  unmanaged.sort((a, b) => order(a.kind) - order(b.kind) || compareStrings(a.address, b.address));
  const add = changes.filter((c): c is CreateChange => c.action === 'create').length;
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    database,
    changes,
    unmanaged,
    summary: { add, change: changes.length - add, destroy: 0 },
  };
}

/** A live row without its id, as the `before` of an update. */
function strip<T extends { id: number }>(row: T): Omit<T, 'id'> {
  const { id: _id, ...rest } = row;
  return rest;
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
  for (const node of live.nodes) {
    const want = desiredNodes.get(node.name);
    if (want !== undefined && want !== nodeKey({ organization: node.organization ?? '', collaboration: node.collaboration ?? '' })) {
      problems.push(`node name ${JSON.stringify(node.name)} is taken by another node (id ${node.id}); node names are unique`);
    }
  }
  const desiredEmails = new Map(desired.users.flatMap((u) => (u.email === null ? [] : [[u.email, u.username] as const])));
  const desiredUsernames = new Set(desired.users.map((u) => u.username));
  for (const user of live.users) {
    const owner = user.email === null ? undefined : desiredEmails.get(user.email);
    if (owner !== undefined && owner !== user.username && !desiredUsernames.has(user.username)) {
      problems.push(`email ${JSON.stringify(user.email)} of user ${JSON.stringify(owner)} belongs to user ${JSON.stringify(user.username)}, which is not in the config`);
    }
  }
  if (problems.length > 0) {
    throw new FedctlError('DATABASE_STATE_INVALID', `the config cannot be applied to this database: ${problems.join('; ')}`,
      'change the config, or fix the database');
  }
}
