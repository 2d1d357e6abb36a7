import { adaptToFive, type AdaptedEntity, type Adaptation, type AdaptOptions } from '../adapt/adapt-to-five.js';
import type { DocumentPath } from '../diagnostic.js';
import type { LiveState } from '../state/live-state.js';
import { nodeKey, type NodePolicies } from '../federation.js';
import { exportConfig, literal, type ExportResult } from './export-config.js';

/** An adaptation, with where the exported config has the entity it was made to (null: left out of it). */
export interface PlacedAdaptation extends Adaptation {
  readonly path: DocumentPath | null;
}

export interface FiveExport extends ExportResult {
  readonly adaptations: readonly PlacedAdaptation[];
}

type Entries = readonly Readonly<Record<string, unknown>>[];

const entries = (value: unknown): Entries => (Array.isArray(value) ? value as Entries : []);

/** A member's node, by the names the config writes (its organization's and its collaboration's). */
const memberKey = (organization: unknown, collaboration: unknown): string => JSON.stringify(['node', organization, collaboration]);

/** An entity's key as the config writes its names (a literal `${` as `$${`): what the config's items are found by. */
function keyOf(at: AdaptedEntity): string {
  switch (at.kind) {
    case 'role': return JSON.stringify([at.kind, literal(at.name), literal(at.organization)]);
    case 'user': return JSON.stringify([at.kind, literal(at.username)]);
    case 'node': return memberKey(literal(at.organization), literal(at.collaboration));
    case 'algorithm_store': return JSON.stringify([at.kind, literal(at.url)]);
  }
}

/**
 * Where the config has each entity an adaptation can be made to: its item of
 * roles, users, a collaboration's members or algorithm_stores (the first,
 * where two match). Indexed once: a federation has thousands of users, each
 * adapted.
 */
function entityPaths(config: Readonly<Record<string, unknown>>): (at: AdaptedEntity) => DocumentPath | null {
  const paths = new Map<string, DocumentPath>();
  const add = (key: string, path: DocumentPath): void => {
    if (!paths.has(key)) paths.set(key, path);
  };
  entries(config.roles).forEach((role, i) => add(JSON.stringify(['role', role.name, role.organization]), ['roles', i]));
  entries(config.users).forEach((user, i) => add(JSON.stringify(['user', user.username]), ['users', i]));
  entries(config.collaborations).forEach((collaboration, c) => entries(collaboration.members).forEach((member, m) =>
    add(memberKey(member.organization, collaboration.name), ['collaborations', c, 'members', m])));
  entries(config.algorithm_stores).forEach((store, i) => add(JSON.stringify(['algorithm_store', store.url]), ['algorithm_stores', i]));
  return (at) => paths.get(keyOf(at)) ?? null;
}

/** A node's policies as the config spells them. */
function policiesAsConfig(policies: NodePolicies): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(policies)) {
    if (value !== undefined) config[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = Array.isArray(value) ? value.map((v: string) => literal(v)) : value;
  }
  return config;
}

/**
 * A 4.x federation as a config for vantage6 5: adapted (each adaptation with
 * the line it was made at), exported, and every user given the password way
 * the adaptation chose. Planning it against HQ is how it is applied.
 */
export function exportForFive(live: LiveState, options: AdaptOptions): FiveExport {
  const adapted = adaptToFive(live, options);
  const result = exportConfig(adapted.live);
  const passwords = new Map([...adapted.passwords].map(([username, way]) => [literal(username), way]));
  const users = entries(result.config.users).map((user) => {
    const password = typeof user.username === 'string' ? passwords.get(user.username) : undefined;
    return password === undefined ? user : { ...user, password };
  });
  // The nodes' policies by their member's names as the config writes them.
  const policiesOf = new Map(adapted.live.nodes.flatMap((node) => {
    if (node.organization === null || node.collaboration === null) return [];
    const policies = adapted.nodePolicies.get(nodeKey({ organization: node.organization, collaboration: node.collaboration }));
    return policies === undefined ? [] : [[keyOf({ kind: 'node', organization: node.organization, collaboration: node.collaboration }), policies] as const];
  }));
  const collaborations = entries(result.config.collaborations).map((collaboration) => ({
    ...collaboration,
    members: entries(collaboration.members).map((member) => {
      const policies = policiesOf.get(memberKey(member.organization, collaboration.name));
      if (policies === undefined || member.node === false) return member;
      return { ...member, node: { ...(typeof member.node === 'object' && member.node !== null ? member.node : {}), policies: policiesAsConfig(policies) } };
    }),
  }));
  const config = { ...result.config, users, collaborations };
  const pathOf = entityPaths(config);
  return { config, skipped: result.skipped, adaptations: adapted.adaptations.map((a) => ({ ...a, path: pathOf(a.at) })) };
}
