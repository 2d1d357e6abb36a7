import { builtInRolesOf, type ServerProfile } from '../catalog/server-profile.js';
import { storeCatalog, storeReleaseFor } from '../catalog/store-catalog.js';
import { roleLabel, roleRefKey, storeLabel, type Collaboration, type DesiredState, type Role, type RoleRef, type User } from '../federation.js';
import type { Plan } from '../plan/plan.js';
import type { LiveState } from '../state/live-state.js';
import type { StoreAccessModel } from './store-access.js';

/**
 * A federation as access is computed on it: the config (with the built-in
 * roles of its release), the live state, or the live state as a plan leaves
 * it. Every role a user can hold is among `roles`, built-in ones with their
 * rules. Plain data.
 */
export interface AccessModel extends StoreAccessModel {
  readonly organizations: readonly { readonly name: string }[];
  readonly collaborations: readonly Pick<Collaboration, 'name' | 'members'>[];
  readonly nodes: readonly { readonly name: string; readonly organization: string | null; readonly collaboration: string | null }[];
  readonly roles: readonly Pick<Role, 'name' | 'organization' | 'rules'>[];
  /**
   * A user whose `enabled` is false can do nothing (absent: enabled).
   * `twoFactor`: whether they have two-factor authentication or must
   * configure it at their next login (absent: not known). `signIn`: the
   * identity provider they sign in through (vantage6 5).
   */
  readonly users: readonly (Pick<User, 'username' | 'organization' | 'roles' | 'rules' | 'signIn'> & { readonly enabled?: boolean; readonly twoFactor?: boolean })[];
}

/**
 * The config's federation, with the built-in roles (and their rules) of the
 * release it is checked against, and at each store whose roles or users it
 * manages, the built-in store roles of the store release that server links to.
 */
export function desiredAccessModel(desired: DesiredState, server: Pick<ServerProfile, 'versions' | 'keycloak'>): AccessModel {
  const builtInStoreRoles = desired.managedStores.length === 0 ? [] : storeCatalog(storeReleaseFor(server.keycloak)).defaultRoles;
  return {
    ...desired,
    roles: [...builtInRolesOf(server.versions.to), ...desired.roles],
    storeRoles: [...desired.managedStores.flatMap(({ url }) => builtInStoreRoles.map(({ name, rules }) => ({ store: url, name, rules }))), ...desired.storeRoles],
  };
}

/** How the plan renames: old name → new name, per kind whose names other entities refer to. */
interface Renames {
  readonly organization: ReadonlyMap<string, string>;
  readonly collaboration: ReadonlyMap<string, string>;
  readonly role: ReadonlyMap<string, RoleRef>;
}

function renamesOf(plan: Plan): Renames {
  const organization = new Map<string, string>();
  const collaboration = new Map<string, string>();
  const role = new Map<string, RoleRef>();
  for (const change of plan.changes) {
    if (change.action !== 'update') continue;
    if (change.kind === 'organization' && change.before.name !== change.after.name) organization.set(change.before.name, change.after.name);
    if (change.kind === 'collaboration' && change.before.name !== change.after.name) collaboration.set(change.before.name, change.after.name);
    if (change.kind === 'role') role.set(roleRefKey(change.before), { name: change.after.name, organization: change.after.organization });
  }
  return { organization, collaboration, role };
}

/**
 * The live state as the plan would leave it: what it creates and updates as
 * the config has it, what it deletes gone, everything else as it is, with
 * the plan's renames carried into every reference. Only what access needs.
 */
export function modelAfter(live: LiveState, plan: Plan): AccessModel {
  const renames = renamesOf(plan);
  const org = (name: string | null): string | null => (name === null ? null : renames.organization.get(name) ?? name);
  const collab = (name: string | null): string | null => (name === null ? null : renames.collaboration.get(name) ?? name);
  const role = (ref: RoleRef): RoleRef => {
    const translated = { name: ref.name, organization: org(ref.organization) };
    return renames.role.get(roleRefKey(ref)) ?? renames.role.get(roleRefKey(translated)) ?? translated;
  };
  const deleted = new Set(plan.changes.filter((c) => c.action === 'delete').map((c) => `${c.kind}\u0000${c.address}`));
  const gone = (kind: string, address: string): boolean => deleted.has(`${kind}\u0000${address}`);
  const changed = <K extends Plan['changes'][number]['kind']>(kind: K) => plan.changes
    .flatMap((c) => (c.kind === kind && c.action !== 'delete' ? [c.after as Extract<Plan['changes'][number], { kind: K; action: 'create' }>['after']] : []));
  const replaced = (kind: string, key: (after: never) => string): Set<string> =>
    new Set(plan.changes.flatMap((c) => (c.kind === kind && c.action === 'update' ? [key(c.before as never)] : [])));

  const updatedOrgs = replaced('organization', (o: { name: string }) => o.name);
  const updatedCollabs = replaced('collaboration', (c: { name: string }) => c.name);
  const updatedRoles = replaced('role', (r: RoleRef) => roleRefKey(r));
  const updatedUsers = replaced('user', (u: { username: string }) => u.username);
  const liveTwoFactor = new Map(live.users.map((u) => [u.username, u.twoFactor]));
  const updatedStores = replaced('algorithm_store', (st: { url: string }) => st.url);
  const updatedStoreRoles = replaced('store_role', (r: { name: string; store: string }) => storeLabel(r.name, r.store));
  const updatedStoreUsers = replaced('store_user', (u: { username: string; store: string }) => storeLabel(u.username, u.store));
  // Most plans rename no organization or role: their users are kept as they are.
  const unrenamed = renames.organization.size === 0 && renames.role.size === 0;
  return {
    organizations: [
      ...live.organizations.filter((o) => !updatedOrgs.has(o.name) && !gone('organization', o.name)).map((o) => ({ name: o.name })),
      ...changed('organization').map((o) => ({ name: o.name })),
    ],
    collaborations: [
      ...live.collaborations.filter((c) => !updatedCollabs.has(c.name) && !gone('collaboration', c.name))
        .map((c) => ({ name: collab(c.name) as string, members: c.members.map((m) => org(m) as string) })),
      ...changed('collaboration'),
    ],
    nodes: live.nodes.map((n) => ({ name: n.name, organization: org(n.organization), collaboration: collab(n.collaboration) })),
    roles: [
      ...live.roles.filter((r) => !updatedRoles.has(roleRefKey(r)) && !gone('role', roleLabel(r)))
        .map((r) => ({ ...role(r), rules: r.rules })),
      ...changed('role'),
    ],
    users: [
      ...live.users.filter((u) => !updatedUsers.has(u.username) && !gone('user', u.username))
        .map((u) => (unrenamed ? u : { ...u, organization: org(u.organization), roles: u.roles.map(role) })),
      // A user the plan makes or changes has two-factor authentication when the config requires it of them, else as they had it.
      ...plan.changes.flatMap((c) => (c.kind === 'user' && c.action !== 'delete' ? [{
        ...c.after, twoFactor: (c.after.requiredActions?.includes('configure_totp') ?? false) || (c.action === 'update' ? liveTwoFactor.get(c.before.username) ?? false : false),
      }] : [])),
    ],
    algorithmStores: [
      ...live.algorithmStores.filter((st) => !updatedStores.has(st.url) && !gone('algorithm_store', st.url))
        .map((st) => (renames.collaboration.size === 0 ? st : { ...st, collaborations: st.collaborations.map((c) => collab(c) as string) })),
      ...changed('algorithm_store'),
    ],
    storeRoles: [
      ...live.storeRoles.filter((r) => { const label = storeLabel(r.name, r.store); return !updatedStoreRoles.has(label) && !gone('store_role', label); }),
      ...changed('store_role'),
    ],
    // No plan changes a store's policies: its operator deploys them.
    storePolicies: live.storePolicies,
    storeUsers: [
      ...live.storeUsers.filter((u) => { const label = storeLabel(u.username, u.store); return !updatedStoreUsers.has(label) && !gone('store_user', label); }),
      ...changed('store_user'),
    ],
  };
}

/** The renames of a plan, for translating what the live state names into what the plan leaves. */
export function translateNames(plan: Plan): { organization: (name: string) => string; collaboration: (name: string) => string } {
  const renames = renamesOf(plan);
  return {
    organization: (name) => renames.organization.get(name) ?? name,
    collaboration: (name) => renames.collaboration.get(name) ?? name,
  };
}
