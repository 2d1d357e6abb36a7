import { adaptToFive, type Adaptation, type AdaptOptions } from '../adapt/adapt-to-five.js';
import type { DocumentPath } from '../diagnostic.js';
import type { LiveState } from '../state/live-state.js';
import { nodeKey, type NodePolicies } from '../federation.js';
import { exportConfig, type ExportResult } from './export-config.js';
import { literal } from '../config/interpolate.js';
import { adaptedEntityPaths, entries, memberKey } from '../adapt/adapted-entity-paths.js';

/** An adaptation, with where the exported config has the entity it was made to (null: left out of it). */
export interface PlacedAdaptation extends Adaptation {
  readonly path: DocumentPath | null;
}

export interface FiveExport extends ExportResult {
  readonly adaptations: readonly PlacedAdaptation[];
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
    return policies === undefined ? [] : [[memberKey(literal(node.organization), literal(node.collaboration)), policies] as const];
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
  const pathOf = adaptedEntityPaths(config);
  return { config, skipped: result.skipped, adaptations: adapted.adaptations.map((a) => ({ ...a, path: pathOf(a.at) })) };
}
