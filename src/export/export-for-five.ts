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

/** Where the config has an entity: its item of roles, users, a collaboration's members, or algorithm_stores. */
function pathOf(config: Readonly<Record<string, unknown>>, at: AdaptedEntity): DocumentPath | null {
  const index = (list: Entries, matches: (entry: Readonly<Record<string, unknown>>) => boolean): number | null => {
    const i = list.findIndex(matches);
    return i < 0 ? null : i;
  };
  switch (at.kind) {
    case 'role': {
      const i = index(entries(config.roles), (r) => r.name === literal(at.name) && r.organization === literal(at.organization));
      return i === null ? null : ['roles', i];
    }
    case 'user': {
      const i = index(entries(config.users), (u) => u.username === literal(at.username));
      return i === null ? null : ['users', i];
    }
    case 'node': {
      const collaborations = entries(config.collaborations);
      const c = index(collaborations, (entry) => entry.name === literal(at.collaboration));
      const m = c === null ? null : index(entries(collaborations[c]?.members), (member) => member.organization === literal(at.organization));
      return c === null || m === null ? null : ['collaborations', c, 'members', m];
    }
    case 'algorithm_store': {
      const i = index(entries(config.algorithm_stores), (s) => s.url === literal(at.url));
      return i === null ? null : ['algorithm_stores', i];
    }
  }
}

/** A name as the config writes it, back as the model has it (`$${` is a literal `${`). */
const unliteral = (value: unknown): string => String(value).replaceAll('$${', '${');

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
  const collaborations = entries(result.config.collaborations).map((collaboration) => ({
    ...collaboration,
    members: entries(collaboration.members).map((member) => {
      const policies = adapted.nodePolicies.get(nodeKey({ organization: unliteral(member.organization), collaboration: unliteral(collaboration.name) }));
      if (policies === undefined || member.node === false) return member;
      return { ...member, node: { ...(typeof member.node === 'object' && member.node !== null ? member.node : {}), policies: policiesAsConfig(policies) } };
    }),
  }));
  const config = { ...result.config, users, collaborations };
  return { config, skipped: result.skipped, adaptations: adapted.adaptations.map((a) => ({ ...a, path: pathOf(config, a.at) })) };
}
