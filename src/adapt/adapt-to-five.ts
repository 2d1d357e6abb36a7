import { changesToFive, storePolicyToFive, type LineChanges } from '../catalog/line-changes.js';
import { referenceCatalog } from '../catalog/reference-catalog.js';
import { describeRule, ruleKey, type RuleKey } from '../catalog/rule-catalog.js';
import { HQ_MINOR, NODE_POLICIES_OF_4X_ONLY, featuresOfRelease, usesKeycloak } from '../catalog/vantage6-versions.js';
import { FedctlError } from '../errors.js';
import {
  compareStrings, defaultNodeName, nodeKey, roleLabel, roleRefKey, sortRoleRefs, sortedUnique, type NodePolicies, type RoleRef, type StorePolicyValue,
} from '../federation.js';

/** The fields of `NodePolicies` that only 4.x's nodes read (the catalogue names them as the config spells them). */
const NODE_POLICY_FIELDS_OF_4X_ONLY: readonly (keyof NodePolicies)[] = NODE_POLICIES_OF_4X_ONLY
  .map((key) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof NodePolicies);
import type { LiveRole, LiveState, LiveStorePolicies, LiveUser } from '../state/live-state.js';

/** Where in the adapted federation an adaptation was made: the entity, as the config names it. */
export type AdaptedEntity =
  | { readonly kind: 'role'; readonly name: string; readonly organization: string }
  | { readonly kind: 'user'; readonly username: string }
  | { readonly kind: 'node'; readonly organization: string; readonly collaboration: string }
  | { readonly kind: 'algorithm_store'; readonly url: string };

/** One thing changed so that vantage6 5 can hold the federation, and why: said at its line, never silently. */
export interface Adaptation {
  readonly at: AdaptedEntity;
  readonly note: string;
}

export interface AdaptOptions {
  /** The 5.x store that takes each 4.x store's place, by the 4.x store's URL. */
  readonly storeUrls: ReadonlyMap<string, string>;
  /** The nodes' own policies, by `nodeKey` (they live in the nodes' files, not on the server: the 4.x config gives them). */
  readonly nodePolicies?: ReadonlyMap<string, NodePolicies>;
}

/** How an adaptation names what it was made to. */
export function describeAdaptedEntity(at: AdaptedEntity): string {
  switch (at.kind) {
    case 'role': return `role ${JSON.stringify(at.name)} of ${JSON.stringify(at.organization)}`;
    case 'user': return `user ${JSON.stringify(at.username)}`;
    case 'node': return `the node of ${JSON.stringify(at.organization)} in ${JSON.stringify(at.collaboration)}`;
    case 'algorithm_store': return `algorithm store ${at.url}`;
  }
}

/** A 4.x federation as vantage6 5 can hold it. */
export interface AdaptedFederation {
  /** The same model, as if read from HQ: its catalogue and built-in roles, the roles, users, nodes and stores adapted. */
  readonly live: LiveState;
  /** How each user gets a password in Keycloak, by username: 4.x's bcrypt hashes do not carry. */
  readonly passwords: ReadonlyMap<string, 'invite' | 'generate'>;
  /** The nodes' own policies as vantage6 5's nodes read them, by `nodeKey`. */
  readonly nodePolicies: ReadonlyMap<string, NodePolicies>;
  readonly adaptations: readonly Adaptation[];
}

const described = (keys: readonly RuleKey[]): string => keys.map(describeRule).join(', ');

/**
 * Adapt a 4.x federation (its live model) to vantage6 5, pure: rules 5.0
 * lacks left out and the session rules its tasks need added; every custom
 * role given an organization (a role without one copied into each
 * organization whose users hold it; a role of another organization copied
 * into the user's, as HQ lets users hold only their organization's roles);
 * what a built-in role did on 4.x and HQ's does not carried by a custom role;
 * node names Keycloak can hold; stores moved to the 5.x stores given; each
 * user a password by invitation (with an e-mail address) or generated.
 */
export function adaptToFive(live: LiveState, options: AdaptOptions): AdaptedFederation {
  if (usesKeycloak(live.server.versions.to)) {
    throw new FedctlError('ADAPT_INVALID', 'the server is vantage6 5 already: --for 5.0 adapts a 4.x federation', 'leave --for out');
  }
  const five = changesToFive();
  const adaptations: Adaptation[] = [];
  const say = (at: AdaptedEntity, note: string): void => void adaptations.push({ at, note });

  /** A role's or user's rules as vantage6 5 has them, and what its tasks need there, each said at `at`. */
  const adaptRules = (rules: readonly RuleKey[], at: AdaptedEntity): RuleKey[] => {
    const { gone, sessions, adapted } = rulesOnFive(rules, five);
    if (gone.length > 0) say(at, `left out ${described(gone)}: vantage6 5 has no such rule`);
    if (sessions.length > 0) say(at, `added ${described(sessions)}: in vantage6 5 every task belongs to a session`);
    return adapted;
  };

  const builtIn = new Map(live.roles.filter((role) => role.isDefault).map((role) => [role.name, role]));
  const custom = new Map(live.roles.filter((role) => !role.isDefault).map((role) => [roleRefKey(role), role]));
  let nextId = Math.max(0, ...live.roles.map((role) => role.id)) + 1;
  const placed = new Map<string, LiveRole>();
  /** The role as it is in `organization` in vantage6 5: made there once, its rules adapted; a name taken by another role's copy gets its origin. */
  const place = (role: Pick<LiveRole, 'name' | 'organization' | 'description' | 'rules'>, organization: string, why: string | null): RoleRef => {
    for (const name of [role.name, `${role.name} (${role.organization ?? 'no organization'})`]) {
      const at = { kind: 'role' as const, name, organization };
      const found = placed.get(roleRefKey(at));
      if (found !== undefined) {
        if (found.rules.join() === rulesOnFive(role.rules, five).adapted.join() && found.description === role.description) return { name, organization };
        continue;
      }
      if (why !== null) say(at, why);
      const made: LiveRole = { id: nextId++, name, organization, description: role.description, rules: adaptRules(role.rules, at), isDefault: false };
      placed.set(roleRefKey(made), made);
      return { name, organization };
    }
    throw new FedctlError('ADAPT_INVALID', `roles named ${JSON.stringify(role.name)} clash in organization ${JSON.stringify(organization)}`, 'rename one of them on the 4.x server first');
  };

  const holders = new Map<string, Set<string>>();
  for (const user of live.users) {
    for (const ref of user.roles) {
      if (custom.has(roleRefKey(ref)) && user.organization !== null) holders.set(roleRefKey(ref), (holders.get(roleRefKey(ref)) ?? new Set()).add(user.organization));
    }
  }
  for (const role of [...custom.values()].sort((a, b) => compareStrings(roleLabel(a), roleLabel(b)))) {
    if (role.organization !== null) {
      place(role, role.organization, null);
      continue;
    }
    const organizations = [...(holders.get(roleRefKey(role)) ?? [])].sort(compareStrings);
    if (organizations.length === 0) {
      place(role, live.server.owned.organization, `a 4.x role without organization that no user holds, given the server's own organization: vantage6 5 gives every role one`);
    }
    for (const organization of organizations) {
      place(role, organization, `the 4.x role without organization, one for each organization whose users hold it (${organizations.map((o) => JSON.stringify(o)).join(', ')}): vantage6 5 gives every role an organization, and lets a user hold only their organization's roles`);
    }
  }

  const passwords = new Map<string, 'invite' | 'generate'>();
  const { owned } = live.server;
  const users: LiveUser[] = live.users.map((user) => {
    // The server's own administrator and fedctl's account are not the federation's: never exported, nothing to adapt.
    if (user.organization === null || user.username === owned.user || user.username === owned.account) return user;
    const organization = user.organization;
    const at = { kind: 'user' as const, username: user.username };
    const extra: RoleRef[] = [];
    const roles = user.roles.map((ref): RoleRef => {
      const role = custom.get(roleRefKey(ref));
      if (role === undefined) {
        const lost = [...(builtIn.get(ref.name)?.rules ?? [])].filter((key) => five.rules.has(key) && !(five.builtInRoles.get(ref.name)?.has(key) ?? true));
        if (lost.length === 0) return ref;
        const carried = place({ name: `${ref.name} as on 4.x`, organization, description: `What 4.x's built-in ${ref.name} let its holders do that vantage6 5's does not`, rules: lost }, organization,
          `what 4.x's built-in ${ref.name} let its holders do and vantage6 5's does not (HQ's built-in roles cannot be edited)`);
        say(at, `holds ${JSON.stringify(carried.name)} too: ${described(lost)}, which 4.x's built-in ${ref.name} gave and vantage6 5's does not`);
        extra.push(carried);
        return ref;
      }
      if (role.organization === organization) return ref;
      const copy = place(role, organization, null);
      if (role.organization !== null) {
        say(at, `holds ${JSON.stringify(copy.name)} of ${JSON.stringify(organization)}, a copy of the role of ${JSON.stringify(role.organization)} they held: vantage6 5 lets a user hold only their organization's roles`);
      }
      return copy;
    });
    const adapted = roles.concat(extra);
    passwords.set(user.username, user.email === null ? 'generate' : 'invite');
    say(at, user.email === null
      ? 'password: generate (recorded in the secrets store): Keycloak does not verify 4.x\'s bcrypt hashes, and the user has no e-mail address for an invitation'
      : 'password: invite: Keycloak e-mails them a link to set a new password (it does not verify 4.x\'s bcrypt hashes)');
    return { ...user, roles: sortRoleRefs(dedupe(adapted)), rules: adaptRules(user.rules, at) };
  });

  const nodes = live.nodes.map((node) => {
    if (node.organization === null || node.collaboration === null) return node;
    const at = { kind: 'node' as const, organization: node.organization, collaboration: node.collaboration };
    say(at, 'its vantage6 5 credentials are new (a Keycloak client and its secret, in the node\'s Helm values): a 4.x node key does not carry');
    if (!/\s/.test(node.name)) return node;
    const name = node.name === defaultNodeName(node.organization, node.collaboration, false)
      ? defaultNodeName(node.organization, node.collaboration, true) : node.name.replace(/\s+/g, '-');
    say(at, `named ${JSON.stringify(name)}, not ${JSON.stringify(node.name)}: vantage6 5 names the node's Keycloak client after it, which holds no spaces`);
    return { ...node, name };
  });

  // A node's policies cross with it, but those only 4.x's nodes read.
  const nodePolicies = new Map([...(options.nodePolicies ?? new Map<string, NodePolicies>())].map(([key, policies]) => {
    const node = nodes.find((n) => n.organization !== null && n.collaboration !== null && nodeKey({ organization: n.organization, collaboration: n.collaboration }) === key);
    const dropped = NODE_POLICY_FIELDS_OF_4X_ONLY.filter((field) => policies[field] !== undefined);
    if (node?.organization && node.collaboration && dropped.length > 0) {
      say({ kind: 'node', organization: node.organization, collaboration: node.collaboration },
        `policies: left out ${NODE_POLICIES_OF_4X_ONLY.join(', ')}: vantage6 5's nodes have no such policy`);
    }
    const kept: Partial<Record<keyof NodePolicies, unknown>> = { ...policies };
    for (const field of dropped) delete kept[field];
    return [key, kept as NodePolicies] as const;
  }));

  const moved = (url: string): string | null => options.storeUrls.get(url) ?? null;
  const algorithmStores = live.algorithmStores.flatMap((store) => {
    const url = moved(store.url);
    if (url === null) {
      say({ kind: 'algorithm_store', url: store.url }, `left out: a 4.x store serves only 4.x servers; give the 5.x store that takes its place with --store-url ${store.url}=URL`);
      return [];
    }
    const name = store.name === new URL(store.url).host ? new URL(url).host : store.name;
    say({ kind: 'algorithm_store', url }, `the 5.x store in the place of ${store.url}`);
    return [{ ...store, url, name }];
  });
  // A store's own roles and users move with it: rules and built-in roles the 5.x store lacks are left out, each said.
  const storeRoles = live.storeRoles.flatMap((role) => {
    const url = moved(role.store);
    if (url === null || (role.isDefault && !five.storeBuiltInRoles.has(role.name))) return [];
    const gone = role.rules.filter((key) => !five.storeRules.has(key));
    if (gone.length > 0 && !role.isDefault) say({ kind: 'algorithm_store', url }, `store role ${JSON.stringify(role.name)}: left out ${gone.join(', ')}: a 5.x store has no such rule`);
    return [{ ...role, store: url, rules: role.rules.filter((key) => five.storeRules.has(key)) }];
  });
  const storeRoleNames = new Set(storeRoles.map((role) => `${role.store}\u0000${role.name}`));
  const storeUsers = live.storeUsers.flatMap((user) => {
    const url = moved(user.store);
    if (url === null) return [];
    const gone = user.roles.filter((role) => !storeRoleNames.has(`${url}\u0000${role}`));
    if (gone.length > 0 && user.account !== true) say({ kind: 'algorithm_store', url }, `store user ${JSON.stringify(user.username)}: left out store role ${gone.map((r) => JSON.stringify(r)).join(', ')}: a 5.x store has no such role`);
    return [{ ...user, store: url, roles: user.roles.filter((role) => !gone.includes(role)) }];
  });
  const storePolicies = live.storePolicies.flatMap((policies): LiveStorePolicies[] => {
    const url = moved(policies.store);
    if (url === null) return [];
    const kept: Record<string, StorePolicyValue> = {};
    for (const [name, value] of Object.entries(policies.policies)) {
      const adapted = storePolicyToFive(name, value);
      if (adapted.value !== null) kept[name] = adapted.value;
      if (adapted.note !== null) say({ kind: 'algorithm_store', url }, `policy ${name}: ${adapted.note}`);
    }
    return [{ store: url, policies: kept }];
  });

  const catalogue = referenceCatalog('5.0');
  return {
    live: {
      ...live,
      server: { ...live.server, versions: { from: HQ_MINOR, to: HQ_MINOR }, features: featuresOfRelease(HQ_MINOR), release: '5.0', limits: [], grantable: null },
      rules: catalogue.rules.map((rule) => ({ id: rule.id, key: ruleKey(rule) })),
      roles: [...catalogue.defaultRoles.map((role) => ({ id: -role.id, name: role.name, organization: null, description: role.description, rules: [...role.rules].sort(), isDefault: true })), ...placed.values()],
      users, nodes, algorithmStores, storeRoles, storeUsers, storePolicies,
    },
    passwords,
    nodePolicies,
    adaptations,
  };
}

/** Rules as vantage6 5 has them: those it lacks (`gone`), the session rules the rest need (`sessions`), and the rules adapted. */
function rulesOnFive(rules: readonly RuleKey[], five: LineChanges): { gone: RuleKey[]; sessions: RuleKey[]; adapted: RuleKey[] } {
  const kept = rules.filter((key) => five.rules.has(key));
  const sessions = five.sessionRulesFor(kept);
  return { gone: rules.filter((key) => !five.rules.has(key)), sessions, adapted: sortedUnique([...kept, ...sessions]) };
}

function dedupe(refs: readonly RoleRef[]): RoleRef[] {
  return [...new Map(refs.map((ref) => [roleRefKey(ref), ref])).values()];
}
