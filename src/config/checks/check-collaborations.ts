import { describeServer } from '../../catalog/server-profile.js';
import { NODE_POLICIES_OF_4X_ONLY } from '../../catalog/vantage6-versions.js';
import { defaultNodeName, looksLikeRegex, sortedUnique, type Collaboration, type Node, type NodePolicies } from '../../federation.js';
import type { DocumentPath } from '../../diagnostic.js';
import { messageOf } from '../../errors.js';
import { CheckContext, isRecord, list, text, type Entry } from './check-context.js';

export function checkCollaborations(ctx: CheckContext, entries: Entry[], orgNames: ReadonlySet<string>, usernames: ReadonlySet<string>, servedByStores: (collaboration: string) => boolean): { collaborations: Collaboration[]; nodes: Node[]; nodePolicies: Record<string, NodePolicies> } {
  const byName = ctx.unique('collaboration', (e) => text(e.value.name), String, entries, 'name', (n) => JSON.stringify(n));
  const collaborations: Collaboration[] = [];
  const nodes: Node[] = [];
  const nodePolicies: Record<string, NodePolicies> = Object.create(null) as Record<string, NodePolicies>;
  const policiesOf: { entry: Entry; index: number; node: string; value: Record<string, unknown> }[] = [];
  const nodeNames = new Map<string, { entry: Entry; sub: DocumentPath }>();
  for (const entry of byName.values()) {
    const name = entry.value.name as string;
    const members = new Map<string, number>();
    list(entry.value.members).forEach((member, index) => {
      if (!isRecord(member)) return;
      const organization = text(member.organization);
      if (organization === null) return;
      const sub = ['members', index, 'organization'];
      if (members.has(organization)) {
        ctx.error(entry, sub, `organization ${JSON.stringify(organization)} is listed twice as a member`, `first at ${ctx.where(entry, ['members', members.get(organization) ?? 0])}`);
        return;
      }
      members.set(organization, index);
      if (!ctx.reference(entry, sub, 'organization', organization, orgNames)) return;
      if (member.node === false) return;
      const fallback = defaultNodeName(organization, name, ctx.server.keycloak);
      const nodeName = isRecord(member.node) ? text(member.node.name) ?? fallback : fallback;
      const nodeSub = ['members', index, ...(isRecord(member.node) && typeof member.node.name === 'string' ? ['node', 'name'] : ['organization'])];
      if (ctx.server.keycloak && /\s/.test(nodeName)) {
        ctx.error(entry, nodeSub, `${ctx.serverName} refuses node name ${JSON.stringify(nodeName)}: vantage6 5 names a node's Keycloak client after it, without spaces`,
          'set node.name to a name without spaces');
        return;
      }
      const clash = nodeNames.get(nodeName);
      if (clash) {
        ctx.error(entry, nodeSub, `node name ${JSON.stringify(nodeName)} is already used`, `by the node at ${ctx.where(clash.entry, clash.sub)}; node names are unique on the server, set node.name`);
        return;
      }
      nodeNames.set(nodeName, { entry, sub: nodeSub });
      nodes.push({ organization, collaboration: name, name: nodeName });
      if (isRecord(member.node) && isRecord(member.node.policies)) policiesOf.push({ entry, index, node: nodeName, value: member.node.policies });
    });
    collaborations.push({
      name,
      encrypted: typeof entry.value.encrypted === 'boolean' ? entry.value.encrypted : true,
      members: sortedUnique(members.keys()),
    });
  }
  const membersOf = new Map(collaborations.map((c) => [c.name, new Set(c.members)]));
  for (const { entry, index, node, value } of policiesOf) {
    const collaboration = entry.value.name as string;
    nodePolicies[node] = checkNodePolicies(ctx, entry, ['members', index, 'node', 'policies'], value,
      { orgNames, usernames, members: membersOf.get(collaboration) ?? new Set(), storesServe: servedByStores(collaboration) });
  }
  return { collaborations, nodes, nodePolicies };
}

/**
 * A node's policies: organizations the config declares (a warning for one
 * outside the collaboration, whose users cannot send it tasks), users it
 * declares (their ids are written, which fedctl knows only of users it
 * manages), and algorithm patterns the node reads as regular expressions
 * checked to be such.
 */
function checkNodePolicies(ctx: CheckContext, entry: Entry, sub: DocumentPath, value: Record<string, unknown>,
  known: { orgNames: ReadonlySet<string>; usernames: ReadonlySet<string>; members: ReadonlySet<string>; storesServe: boolean }): NodePolicies {
  const { orgNames, members } = known;
  // The node's file names users by the id the server gave them: only users of the config have one fedctl knows.
  const users = list(value.allowed_users).flatMap((item, i) =>
    (typeof item === 'string' && ctx.reference(entry, [...sub, 'allowed_users', i], 'user', item, known.usernames) ? [item] : []));
  const organizations = list(value.allowed_organizations).flatMap((item, i) => {
    if (typeof item !== 'string' || !ctx.reference(entry, [...sub, 'allowed_organizations', i], 'organization', item, orgNames)) return [];
    if (!members.has(item)) {
      ctx.warning(entry, [...sub, 'allowed_organizations', i], `organization ${JSON.stringify(item)} is not a member of ${JSON.stringify(entry.value.name)}: its users cannot send this node tasks`,
        'add it to the collaboration\'s members, or remove it here');
    }
    return [item];
  });
  const algorithms = list(value.allowed_algorithms).flatMap((item, i) => {
    if (typeof item !== 'string') return [];
    if (looksLikeRegex(item)) {
      try {
        // Without the u flag JavaScript reads escapes as leniently as Python's re (\- and the like).
        new RegExp(item);
      } catch (error) {
        ctx.error(entry, [...sub, 'allowed_algorithms', i], `the node reads ${JSON.stringify(item)} as a regular expression, and it is not one: ${messageOf(error)}`,
          'escape the special characters of an image name (\\. for a dot), or write the image name without them');
        return [];
      }
    }
    return [item];
  });
  // The node reads an empty list as no limit at all, not as "none".
  for (const key of ['allowed_algorithms', 'allowed_organizations', 'allowed_users']) {
    if (Array.isArray(value[key]) && value[key].length === 0) {
      ctx.warning(entry, [...sub, key], `the node reads an empty ${key} as no limit: ${key === 'allowed_algorithms' ? 'every algorithm runs' : 'every user of the collaboration may send it tasks'}`,
        'list what it allows, or remove the key');
    }
  }
  if (value.allow_either_whitelist_or_store === true) {
    const lifted = !(Array.isArray(value.allowed_algorithms) && value.allowed_algorithms.length > 0)
      ? 'without allowed_algorithms, this lets the node run every algorithm, from any store'
      : known.storesServe ? null : 'no algorithm store serves this collaboration: this lets the node run every algorithm, not only allowed_algorithms';
    if (lifted !== null) ctx.warning(entry, [...sub, 'allow_either_whitelist_or_store'], lifted, 'remove allow_either_whitelist_or_store, or give the node both limits');
  }
  for (const key of NODE_POLICIES_OF_4X_ONLY) {
    if (ctx.server.keycloak && key in value) {
      ctx.error(entry, [...sub, key], `${describeServer(ctx.server)} nodes have no policy ${key} (it is a policy of 4.x's nodes)`, 'remove it');
    }
  }
  return {
    ...(value.allowed_algorithms === undefined ? {} : { allowedAlgorithms: algorithms }),
    ...(value.allowed_organizations === undefined ? {} : { allowedOrganizations: sortedUnique(organizations) }),
    ...(value.allowed_users === undefined ? {} : { allowedUsers: sortedUnique(users) }),
    ...(typeof value.require_algorithm_pull === 'boolean' ? { requireAlgorithmPull: value.require_algorithm_pull } : {}),
    ...(typeof value.allow_either_whitelist_or_store === 'boolean' ? { allowEitherWhitelistOrStore: value.allow_either_whitelist_or_store } : {}),
    ...(typeof value.allow_basics_algorithm === 'boolean' && !ctx.server.keycloak ? { allowBasicsAlgorithm: value.allow_basics_algorithm } : {}),
  };
}
