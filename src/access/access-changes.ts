import { describeRule, readableSpelling, type Operation, type Scope } from '../catalog/rule-catalog.js';
import { compareStrings, roleLabel, sortedUnique, storeLabel } from '../federation.js';
import type { AccessChanges, AccessItem, Change } from '../plan/plan.js';
import type { LiveState } from '../state/live-state.js';
import { modelAfter, translateNames } from './access-model.js';
import { storeTarget, type StorePermission } from './store-access.js';
import { FederationAccess, reachTargets, type AccessProfile, type Permission } from './user-access.js';

const MANAGEMENT = new Set(['user', 'role', 'organization', 'store.user', 'store.role']);
const MANAGING = new Set(['create', 'edit', 'delete']);
/** The fields of a user that their access depends on. */
const ACCESS_FIELDS = new Set(['organization', 'roles', 'rules', 'enabled']);

const item = (resource: string, operation: Operation, scope: Scope, on: readonly string[]): AccessItem =>
  ({ resource, operation: readableSpelling(operation), scope: readableSpelling(scope), on });

/** What a user gains and loses, per resource and operation. */
interface Difference {
  readonly gains: readonly AccessItem[];
  readonly losses: readonly AccessItem[];
  /** The same for the same difference: what users are grouped by. */
  readonly key: string;
}

/** Per resource and operation, what is gained and what is lost; `everything` holds any other reach. */
function difference(before: readonly Permission[], after: readonly Permission[], translated: (reach: Permission['reach']) => readonly string[]): Omit<Difference, 'key'> {
  // Created and deleted users, most of a first plan: all is gained or lost.
  if (before.length === 0) return { gains: after.map((p) => item(p.resource, p.operation, p.reach.scope, reachTargets(p.reach))), losses: [] };
  if (after.length === 0) return { gains: [], losses: before.map((p) => item(p.resource, p.operation, p.reach.scope, translated(p.reach))) };
  const key = (p: Permission): string => `${p.resource}:${p.operation}`;
  const was = new Map(before.map((p) => [key(p), p]));
  const is = new Map(after.map((p) => [key(p), p]));
  const gains: AccessItem[] = [];
  const losses: AccessItem[] = [];
  for (const k of new Set([...was.keys(), ...is.keys()])) {
    const p0 = was.get(k);
    const p1 = is.get(k);
    const t0 = p0 === undefined ? [] : translated(p0.reach);
    const t1 = p1 === undefined ? [] : reachTargets(p1.reach);
    if (t0 === t1) continue;
    const s0 = new Set(t0);
    const s1 = new Set(t1);
    // Whole lists are kept as they are, shared with every user of the organization.
    const gained = s0.has('everything') ? [] : s0.size === 0 ? t1 : t1.filter((t) => !s0.has(t));
    const lost = s1.has('everything') ? [] : s1.size === 0 ? t0 : t0.filter((t) => !s1.has(t));
    if (p1 !== undefined && gained.length > 0) gains.push(item(p1.resource, p1.operation, p1.reach.scope, gained));
    if (p0 !== undefined && lost.length > 0) losses.push(item(p0.resource, p0.operation, p0.reach.scope, lost));
  }
  return { gains, losses };
}

/** Per store resource and operation, the stores where it is gained and lost (`store "X"`). */
function storeDifference(before: readonly StorePermission[], after: readonly StorePermission[], target: (url: string) => string): Omit<Difference, 'key'> {
  if (before.length === 0 && after.length === 0) return { gains: [], losses: [] };
  const byRule = (permissions: readonly StorePermission[]): Map<string, Set<string>> => {
    const stores = new Map<string, Set<string>>();
    for (const p of permissions) {
      const key = `${p.resource}:${p.operation}`;
      stores.set(key, (stores.get(key) ?? new Set()).add(p.store));
    }
    return stores;
  };
  const was = byRule(before);
  const is = byRule(after);
  const items = (from: Map<string, Set<string>>, without: Map<string, Set<string>>): AccessItem[] => [...from].flatMap(([key, stores]) => {
    const [resource = '', operation = ''] = key.split(':');
    const on = [...stores].filter((url) => !without.get(key)?.has(url)).map(target).sort(compareStrings);
    return on.length === 0 ? [] : [{ resource, operation, scope: 'store', on }];
  });
  return { gains: items(is, was), losses: items(was, is) };
}

/** `+ "A", - "B"`: what a set field gained and lost. */
function setDelta(change: Change, field: string, show: (value: string) => string = (v) => JSON.stringify(v)): string | null {
  if (change.action !== 'update') return null;
  const delta = change.fields.find((f) => 'added' in f && f.field === field);
  if (delta === undefined || !('added' in delta)) return null;
  return [...delta.added.map((v) => `+ ${show(v)}`), ...delta.removed.map((v) => `- ${show(v)}`)].join(', ');
}

/** A user a plan can change the access of: their name after the plan (a deleted user's last), and before it. */
export interface ReachedUser {
  readonly username: string;
  readonly old: string;
}

/**
 * The federation before and after a plan, the users its changes can reach
 * (those it changes, those holding a role it changes, and those of
 * organizations whose collaborations it changes), and which changes reach
 * a user. What access changes and guardrails are computed from. Pure.
 */
export interface AccessDelta {
  readonly before: FederationAccess;
  readonly after: FederationAccess;
  readonly reached: readonly ReachedUser[];
  /** `before`'s organization and collaboration names as the plan leaves them. */
  readonly translate: { organization: (name: string) => string; collaboration: (name: string) => string };
  /** The plan's changes behind a change of a user's access. */
  causes(user: ReachedUser): string[];
}

export function accessDelta(live: LiveState, changes: readonly Change[]): AccessDelta | null {
  if (changes.length === 0) return null;
  const plan = { changes } as Parameters<typeof modelAfter>[1];
  const before = new FederationAccess(live);
  const after = new FederationAccess(modelAfter(live, plan));
  const names = translateNames(plan);
  const index = indexChanges(changes);

  const renamed = changes.flatMap((c) => (c.kind === 'user' && c.action === 'update' && c.before.username !== c.after.username
    ? [[c.before.username, c.after.username] as const] : []));
  const afterName = new Map(renamed);
  const beforeName = new Map(renamed.map(([old, now]) => [now, old]));
  const reaches = (user: FederationAccess['model']['users'][number]): boolean =>
    user.roles.some((ref) => index.roles.has(roleLabel(ref))) || (user.organization !== null && index.collaborations.has(user.organization));
  const reached = new Set<string>([...index.users.keys(), ...index.storeUsers.keys()]);
  if (index.roles.size > 0 || index.collaborations.size > 0) {
    for (const user of before.model.users) if (reaches(user)) reached.add(afterName.get(user.username) ?? user.username);
    for (const user of after.model.users) if (!reached.has(user.username) && reaches(user)) reached.add(user.username);
  }
  if (index.storeRoles.size > 0) {
    for (const user of [...before.model.storeUsers ?? [], ...after.model.storeUsers ?? []]) {
      if (user.roles.some((role) => index.storeRoles.has(storeLabel(role, user.store)))) reached.add(user.username);
    }
  }

  return {
    before, after, translate: names,
    reached: sortedUnique(reached).map((username) => ({ username, old: beforeName.get(username) ?? username })),
    causes: (user) => causesFor(user, index, names, before, after),
  };
}

/**
 * Who gains and loses which power where when a plan is applied, and because
 * of which of its changes: users changed the same way for the same reasons
 * in one group, notable ones (global scope, managing users, roles or
 * organizations) first. Undefined when no one's access changes. Pure.
 */
export function accessChanges(delta: AccessDelta | null): AccessChanges | undefined {
  if (delta === null) return undefined;
  const { before, after } = delta;
  const translatedTargets = new WeakMap<Permission['reach'], readonly string[]>();
  const translated = (reach: Permission['reach']): readonly string[] => {
    let targets = translatedTargets.get(reach);
    if (targets === undefined) {
      const original = reachTargets(reach);
      const renamed = original.map((target) => target
        .replace(/^organization (".*")$/, (_, name: string) => `organization ${JSON.stringify(delta.translate.organization(JSON.parse(name) as string))}`)
        .replace(/^collaboration (".*")$/, (_, name: string) => `collaboration ${JSON.stringify(delta.translate.collaboration(JSON.parse(name) as string))}`));
      targets = renamed.every((target, i) => target === original[i]) ? original : renamed;
      translatedTargets.set(reach, targets);
    }
    return targets;
  };
  // The lists of organizations and collaborations reached are long and shared: each is read once.
  const targetIds = new WeakMap<readonly string[], string>();
  const contents = new Map<string, string>();
  const targetsId = (on: readonly string[]): string => {
    let id = targetIds.get(on);
    if (id === undefined) {
      const content = on.join('\u0001');
      id = contents.get(content) ?? String(contents.size);
      contents.set(content, id);
      targetIds.set(on, id);
    }
    return id;
  };
  const itemId = (i: AccessItem): string => `${i.resource}:${i.operation}:${i.scope}:${targetsId(i.on)}`;
  // Users of the same organization, roles and rules before and after change alike: each pair is compared once.
  const differences = new Map<AccessProfile | undefined, Map<AccessProfile | undefined, Difference>>();
  const keys = new Map<string, string>();
  const differenceOf = (p0: AccessProfile | undefined, p1: AccessProfile | undefined): Difference => {
    const row = differences.get(p0) ?? new Map<AccessProfile | undefined, Difference>();
    differences.set(p0, row);
    let found = row.get(p1);
    if (found === undefined) {
      const { gains, losses } = difference(p0?.permissions ?? [], p1?.permissions ?? [], translated);
      const content = `${gains.map(itemId).join('\u0002')}\u0003${losses.map(itemId).join('\u0002')}`;
      const key = keys.get(content) ?? String(keys.size);
      keys.set(content, key);
      found = { gains, losses, key };
      row.set(p1, found);
    }
    return found;
  };
  // A store unlinked by the plan keeps the name it had.
  const storeName = (url: string): string => storeTarget(after.stores.nameOf(url) ?? before.stores.nameOf(url) ?? url);
  const byChange = new Map<string, { users: string[]; organizations: Set<string>; gains: readonly AccessItem[]; losses: readonly AccessItem[]; causes: string[] }>();
  let users = 0;
  for (const user of delta.reached) {
    const server = differenceOf(before.profile(user.old), after.profile(user.username));
    const stores = storeDifference(before.stores.permissionsOf(user.old), after.stores.permissionsOf(user.username), storeName);
    const gains = stores.gains.length === 0 ? server.gains : [...server.gains, ...stores.gains];
    const losses = stores.losses.length === 0 ? server.losses : [...server.losses, ...stores.losses];
    const changeKey = stores.gains.length + stores.losses.length === 0 ? server.key
      : `${server.key}\u0004${[...stores.gains, ...stores.losses].map(itemId).join('\u0002')}`;
    if (gains.length === 0 && losses.length === 0) continue;
    users++;
    const causes = delta.causes(user);
    const key = `${changeKey}\u0000${causes.join('\u0000')}`;
    const group = byChange.get(key) ?? { users: [], organizations: new Set<string>(), gains, losses, causes };
    group.users.push(user.username);
    const org = after.user(user.username)?.organization ?? before.user(user.old)?.organization;
    if (org) group.organizations.add(org);
    byChange.set(key, group);
  }
  if (users === 0) return undefined;
  const groups = [...byChange.values()].map(({ organizations, gains, ...rest }) => ({
    ...rest, gains, organizations: organizations.size,
    // Editing or deleting one's own account is every user's; managing others' is what stands out.
    notable: gains.some((g) => g.scope === 'global' || (MANAGEMENT.has(g.resource) && MANAGING.has(g.operation) && g.scope !== 'own')),
  }));
  groups.sort((a, b) => Number(b.notable) - Number(a.notable) || b.users.length - a.users.length || compareStrings(a.users[0] ?? '', b.users[0] ?? ''));
  return { users, groups };
}

/**
 * A plan's changes by what they can reach: users by name (old and new), roles
 * by label (old and new), collaborations by member organization, store users
 * by username, store roles by label.
 */
interface ChangeIndex {
  readonly users: ReadonlyMap<string, Change>;
  readonly roles: ReadonlyMap<string, readonly Change[]>;
  readonly collaborations: ReadonlyMap<string, readonly Change[]>;
  readonly storeUsers: ReadonlyMap<string, readonly Change[]>;
  readonly storeRoles: ReadonlyMap<string, readonly Change[]>;
}

function indexChanges(changes: readonly Change[]): ChangeIndex {
  const users = new Map<string, Change>();
  const roles = new Map<string, Change[]>();
  const collaborations = new Map<string, Change[]>();
  const storeUsers = new Map<string, Change[]>();
  const storeRoles = new Map<string, Change[]>();
  const add = (map: Map<string, Change[]>, key: string, change: Change): void => {
    const list = map.get(key) ?? [];
    if (!list.includes(change)) list.push(change);
    map.set(key, list);
  };
  for (const change of changes) {
    // A user's name, email or password changes no one's access.
    if (change.kind === 'user' && (change.action !== 'update' || change.fields.some((f) => ACCESS_FIELDS.has(f.field)))) {
      users.set(change.action === 'delete' ? change.address : change.after.username, change);
    }
    if (change.kind === 'role') {
      add(roles, change.address, change);
      if (change.action === 'update') add(roles, roleLabel(change.before), change);
    }
    // A collaboration's other changes (its name, its flags) change no one's access.
    if (change.kind === 'collaboration' && (change.action !== 'update' || change.fields.some((f) => 'added' in f))) {
      const members = [...(change.action === 'delete' ? [] : change.after.members), ...(change.action === 'create' ? [] : change.before.members)];
      for (const member of members) add(collaborations, member, change);
    }
    if (change.kind === 'store_user') add(storeUsers, change.action === 'delete' ? change.before.username : change.after.username, change);
    if (change.kind === 'store_role' && (change.action !== 'update' || change.fields.some((f) => f.field === 'rules'))) add(storeRoles, change.address, change);
  }
  return { users, roles, collaborations, storeUsers, storeRoles };
}

/**
 * The changes of a plan behind a user's change of access, said of the user
 * (`their roles + "X"`) so that users changed alike group together. A
 * created or deleted user's access is their creation's or deletion's.
 */
function causesFor(user: ReachedUser, index: ChangeIndex, translate: AccessDelta['translate'], before: FederationAccess, after: FederationAccess): string[] {
  return [...serverCauses(user, index, translate, before, after), ...storeCauses(user, index, before, after)];
}

function serverCauses(user: ReachedUser, index: ChangeIndex, translate: AccessDelta['translate'], before: FederationAccess, after: FederationAccess): string[] {
  const own = index.users.get(user.username) ?? index.users.get(user.old);
  if (own?.kind === 'user' && own.action === 'create') return ['they are created'];
  if (own?.kind === 'user' && own.action === 'delete') return ['they are deleted'];
  const causes: string[] = [];
  if (own?.kind === 'user' && own.action === 'update') {
    if (own.before.enabled !== own.after.enabled) causes.push(own.after.enabled ? 'they are enabled again' : 'they are disabled');
    const roles = setDelta(own, 'roles');
    const rules = setDelta(own, 'rules', describeRule);
    if (roles) causes.push(`their roles ${roles}`);
    if (rules) causes.push(`their rules ${rules}`);
    if (own.before.organization !== own.after.organization) {
      causes.push(`their organization ${JSON.stringify(own.before.organization)} -> ${JSON.stringify(own.after.organization)}`);
    }
  }
  const was = before.user(user.old);
  const is = after.user(user.username);
  const roleChanges = new Set([...(was?.roles ?? []), ...(is?.roles ?? [])].flatMap((ref) => index.roles.get(roleLabel(ref)) ?? []));
  for (const change of roleChanges) {
    const rules = setDelta(change, 'rules', describeRule);
    if (change.action === 'update' && rules) causes.push(`role ${JSON.stringify(change.address)}: rules ${rules}`);
    if (change.action === 'create') causes.push(`role ${JSON.stringify(change.address)} is created`);
    if (change.action === 'delete') causes.push(`role ${JSON.stringify(change.address)} is deleted`);
  }
  const orgs = [was?.organization, is?.organization].filter((org): org is string => typeof org === 'string');
  // A collaboration's members are a cause only where they change what the user's collaboration scope reaches.
  const collabChanges = sameShared(was?.organization ?? null, is?.organization ?? null, translate, before, after)
    ? new Set<Change>() : new Set(orgs.flatMap((org) => index.collaborations.get(org) ?? []));
  for (const change of collabChanges) {
    const delta = setDelta(change, 'members');
    if (change.action === 'update' && delta) causes.push(`collaboration ${JSON.stringify(change.address)}: members ${delta}`);
    if (change.action === 'create') causes.push(`collaboration ${JSON.stringify(change.address)} is created`);
    if (change.action === 'delete') causes.push(`collaboration ${JSON.stringify(change.address)} is deleted`);
  }
  return causes;
}

/** The store changes behind a user's change of store access: their store roles, and the rules of store roles they hold. */
function storeCauses(user: ReachedUser, index: ChangeIndex, before: FederationAccess, after: FederationAccess): string[] {
  const causes: string[] = [];
  const storeOf = (url: string): string => JSON.stringify(after.stores.nameOf(url) ?? before.stores.nameOf(url) ?? url);
  for (const change of index.storeUsers.get(user.username) ?? []) {
    if (change.kind !== 'store_user') continue;
    const had = change.action === 'create' ? [] : change.before.roles;
    const has = change.action === 'delete' ? [] : change.after.roles;
    const delta = [...has.filter((r) => !had.includes(r)).map((r) => `+ ${JSON.stringify(r)}`), ...had.filter((r) => !has.includes(r)).map((r) => `- ${JSON.stringify(r)}`)];
    const store = change.action === 'delete' ? change.before.store : change.after.store;
    if (delta.length > 0) causes.push(`their store roles at ${storeOf(store)} ${delta.join(', ')}`);
  }
  const held = [...before.stores.membershipsOf(user.old), ...after.stores.membershipsOf(user.username)]
    .flatMap((u) => u.roles.map((role) => storeLabel(role, u.store)));
  for (const change of new Set(held.flatMap((label) => index.storeRoles.get(label) ?? []))) {
    if (change.kind !== 'store_role') continue;
    const role = change.action === 'delete' ? change.before : change.after;
    const named = `store role ${JSON.stringify(role.name)} at ${storeOf(role.store)}`;
    const rules = setDelta(change, 'rules');
    if (change.action === 'update' && rules) causes.push(`${named}: rules ${rules}`);
    if (change.action === 'create') causes.push(`${named} is created`);
    if (change.action === 'delete') causes.push(`${named} is deleted`);
  }
  return causes;
}

/** Whether collaboration scope reaches the same for a user's organization before (its names as the plan leaves them) and after. */
function sameShared(was: string | null, is: string | null, translate: AccessDelta['translate'], before: FederationAccess, after: FederationAccess): boolean {
  const s0 = before.shared(was);
  const s1 = after.shared(is);
  const same = (a: readonly string[], b: readonly string[], rename: (name: string) => string): boolean => {
    if (a.length !== b.length) return false;
    const renamed = new Set(a.map(rename));
    return renamed.size === b.length && b.every((name) => renamed.has(name));
  };
  return same(s0.collaborations, s1.collaborations, translate.collaboration) && same(s0.organizations, s1.organizations, translate.organization);
}
