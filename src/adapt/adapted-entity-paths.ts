import { literal } from '../config/interpolate.js';
import type { ConfigDocument } from '../config/load-config.js';
import type { DocumentPath } from '../diagnostic.js';
import type { AdaptedFrom } from '../plan/plan.js';
import { describeAdaptedEntity, type Adaptation, type AdaptedEntity } from './adapt-to-five.js';

type Entries = readonly Readonly<Record<string, unknown>>[];

/** A config's list (roles, users, members), as written; none when absent. */
export const entries = (value: unknown): Entries => (Array.isArray(value) ? value as Entries : []);

/** A member's node, by the names the config writes (its organization's and its collaboration's). */
export const memberKey = (organization: unknown, collaboration: unknown): string => JSON.stringify(['node', organization, collaboration]);

/** An entity's key as the config writes its names (a literal `${` as `$${`): what the config's items are found by. */
function keyOf(at: AdaptedEntity): string {
  switch (at.kind) {
    case 'role': return JSON.stringify([at.kind, literal(at.name), literal(at.organization)]);
    case 'user': return JSON.stringify([at.kind, literal(at.username)]);
    case 'node': return memberKey(literal(at.organization), literal(at.collaboration));
    case 'algorithm_store': return JSON.stringify([at.kind, literal(at.url)]);
  }
}

/** A role by its name alone: where a 4.x config has the role without organization that an adaptation placed in one. */
const roleNameKey = (name: unknown): string => JSON.stringify(['role', name]);

/**
 * Where a config (one document's value, as written) has each entity an
 * adaptation can be made to: its item of roles, users, a collaboration's
 * members or algorithm_stores (the first, where two match); a role placed in
 * an organization is found by its name where the config gives it none.
 * Indexed once: a federation has thousands of users, each adapted.
 */
export function adaptedEntityPaths(config: unknown): (at: AdaptedEntity) => DocumentPath | null {
  const value = typeof config === 'object' && config !== null ? config as Readonly<Record<string, unknown>> : {};
  const paths = new Map<string, DocumentPath>();
  const add = (key: string, path: DocumentPath): void => {
    if (!paths.has(key)) paths.set(key, path);
  };
  entries(value.roles).forEach((role, i) => {
    add(JSON.stringify(['role', role.name, role.organization ?? null]), ['roles', i]);
    if (role.organization === undefined || role.organization === null) add(roleNameKey(role.name), ['roles', i]);
  });
  entries(value.users).forEach((user, i) => add(JSON.stringify(['user', user.username]), ['users', i]));
  entries(value.collaborations).forEach((collaboration, c) => entries(collaboration.members).forEach((member, m) =>
    add(memberKey(member.organization, collaboration.name), ['collaborations', c, 'members', m])));
  entries(value.algorithm_stores).forEach((store, i) => add(JSON.stringify(['algorithm_store', store.url]), ['algorithm_stores', i]));
  return (at) => paths.get(keyOf(at)) ?? (at.kind === 'role' ? paths.get(roleNameKey(literal(at.name))) ?? null : null);
}

/** Each adaptation as a plan shows it, with the `file:line` of the 4.x config's item it was made to (a store found by its 4.x URL). */
export function locateAdaptations(adaptations: readonly Adaptation[], documents: readonly ConfigDocument[], storeUrls: ReadonlyMap<string, string>): AdaptedFrom['adaptations'] {
  const oldUrl = new Map([...storeUrls].map(([from, to]) => [to, from]));
  const finders = documents.map((document) => ({ document, pathOf: adaptedEntityPaths(document.value) }));
  return adaptations.map(({ at, note }) => {
    const sought = at.kind === 'algorithm_store' ? { ...at, url: oldUrl.get(at.url) ?? at.url } : at;
    for (const { document, pathOf } of finders) {
      const path = pathOf(sought);
      if (path === null) continue;
      const location = document.locate(path);
      return { entity: describeAdaptedEntity(at), at: `${location.file}:${location.line}`, note };
    }
    return { entity: describeAdaptedEntity(at), at: null, note };
  });
}
