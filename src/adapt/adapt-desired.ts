import { builtInRolesOf, type ServerProfile } from '../catalog/server-profile.js';
import { storeCatalog, storeReleaseFor } from '../catalog/store-catalog.js';
import { featuresOfRelease } from '../catalog/vantage6-versions.js';
import { nodeKey, type DesiredState, type DesiredUser, type NodePolicies } from '../federation.js';
import { ownValue } from '../own-property.js';
import { NOTHING_UNKNOWN, type LiveState, type ServerOwned } from '../state/live-state.js';
import { adaptToFive, type Adaptation } from './adapt-to-five.js';

export interface DesiredAdaptOptions {
  /** The 5.x store that takes each 4.x store's place, by the 4.x store's URL. */
  readonly storeUrls: ReadonlyMap<string, string>;
  /** HQ's own organization and accounts: a role no one holds goes to its organization, and they are never adapted. */
  readonly owned: ServerOwned;
}

/** The nodes' own policies a config gives (by node name, in its secrets settings), by `nodeKey`: what crosses with each node. */
export function nodePoliciesByKey(desired: Pick<DesiredState, 'nodes' | 'secrets'>): Map<string, NodePolicies> {
  return new Map(desired.nodes.flatMap((node) => {
    const policies = ownValue(desired.secrets.nodePolicies ?? {}, node.name);
    return policies === undefined ? [] : [[nodeKey(node), policies] as const];
  }));
}

/**
 * A 4.x config's federation as vantage6 5 holds it, pure: the config is put
 * in the shape of the 4.x server it describes (its release's built-in roles
 * and store roles beside its own) and adapted exactly as `export --for 5.0`
 * adapts a server, so that planning a 4.x config against HQ and planning the
 * export of the server it made agree. The config's settings (pruning,
 * guardrails, history, recipients, the server its nodes reach) stay as they are.
 */
export function adaptDesiredToFive(desired: DesiredState, profile: ServerProfile, options: DesiredAdaptOptions): { desired: DesiredState; adaptations: readonly Adaptation[] } {
  const minor = profile.versions.to;
  let id = 0;
  const storeRelease = storeReleaseFor(false);
  const storesWithRoles = desired.managedStores.filter((store) => store.roles || store.users).map((store) => store.url);
  const live: LiveState = {
    server: { versions: profile.versions, features: featuresOfRelease(minor), unknown: NOTHING_UNKNOWN, limits: [], grantable: null, owned: options.owned },
    rules: profile.rules.map((key) => ({ id: ++id, key })),
    organizations: desired.organizations.map((o) => ({ ...o, id: ++id })),
    collaborations: desired.collaborations.map((c) => ({ ...c, id: ++id })),
    nodes: desired.nodes.map((n) => ({ ...n, id: ++id })),
    studies: desired.studies.map((s) => ({ ...s, id: ++id })),
    roles: [
      ...builtInRolesOf(minor).map((role) => ({ ...role, id: ++id, description: null, isDefault: true })),
      ...desired.roles.map((role) => ({ ...role, id: ++id, isDefault: false })),
    ],
    users: desired.users.map((u) => ({ ...u, id: ++id })),
    algorithmStores: desired.algorithmStores.map((s) => ({ ...s, id: ++id, rows: [] })),
    storeRoles: [
      ...storesWithRoles.flatMap((store) => storeCatalog(storeRelease).defaultRoles.map((role) => ({ ...role, store, id: ++id, isDefault: true }))),
      ...desired.storeRoles.map((role) => ({ ...role, id: ++id, isDefault: false })),
    ],
    storeUsers: desired.storeUsers.map((u) => ({ ...u, id: ++id })),
    storePolicies: desired.storePolicies,
    inUse: [],
  };
  const adapted = adaptToFive(live, { storeUrls: options.storeUrls, nodePolicies: nodePoliciesByKey(desired) });

  const given = new Map(desired.users.map((user) => [user.username, user]));
  const users = adapted.live.users.flatMap((user): DesiredUser[] => {
    const { id: _, awaitingInvitation: __, twoFactor: ___, ...fields } = user;
    const own = given.get(user.username);
    if (own === undefined) return [];
    const way = adapted.passwords.get(user.username);
    return [{ ...fields, password: way === undefined ? own.password : { from: way }, ...(own.requiredActions === undefined ? {} : { requiredActions: own.requiredActions }) }];
  });
  const nodes = adapted.live.nodes.flatMap((node) => node.organization === null || node.collaboration === null
    ? [] : [{ organization: node.organization, collaboration: node.collaboration, name: node.name }]);
  const nodePolicies: Record<string, NodePolicies> = Object.create(null) as Record<string, NodePolicies>;
  for (const node of nodes) {
    const policies = adapted.nodePolicies.get(nodeKey(node));
    if (policies !== undefined) nodePolicies[node.name] = policies;
  }
  const moved = (url: string): string | null => options.storeUrls.get(url) ?? null;
  const nodeStores = Object.fromEntries(Object.entries(desired.secrets.nodeStores ?? {}).flatMap(([collaboration, urls]) => {
    const kept = urls.flatMap((url) => moved(url) ?? []);
    return kept.length === 0 ? [] : [[collaboration, kept] as const];
  }));
  const { nodeStores: _, nodePolicies: __, ...settings } = desired.secrets;
  return {
    desired: {
      ...desired,
      nodes,
      roles: adapted.live.roles.filter((role) => !role.isDefault).map(({ id: _, isDefault: __, ...role }) => role),
      users,
      algorithmStores: adapted.live.algorithmStores.map(({ id: _, rows: __, ...store }) => store),
      storeRoles: adapted.live.storeRoles.filter((role) => !role.isDefault).map(({ id: _, isDefault: __, ...role }) => role),
      storeUsers: adapted.live.storeUsers.map(({ id: _, account: __, ...user }) => user),
      storePolicies: adapted.live.storePolicies.map(({ onlyPublic: _, ...policies }) => policies),
      managedStores: desired.managedStores.flatMap((store) => {
        const url = moved(store.url);
        return url === null ? [] : [{ ...store, url }];
      }),
      secrets: {
        ...settings,
        ...(Object.keys(nodeStores).length > 0 ? { nodeStores } : {}),
        ...(Object.keys(nodePolicies).length > 0 ? { nodePolicies } : {}),
      },
    },
    adaptations: adapted.adaptations,
  };
}
