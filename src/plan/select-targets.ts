import { FedctlError } from '../errors.js';
import { storeLabel, type DesiredState, type EntityKind } from '../federation.js';
import type { EntitySelector } from './plan-options.js';
import type { Plan } from './plan.js';

const entityKey = (kind: EntityKind, name: string): string => `${kind}\u0000${name}`;

/**
 * Keep the part of a plan that concerns the targets and what they need: a
 * user needs its organization and custom roles, a node its organization and
 * collaboration, a collaboration its member organizations, a study its
 * collaboration and organizations, a role its organization.
 */
export function selectTargets(plan: Plan, desired: DesiredState, targets: readonly EntitySelector[]): Plan {
  const wanted = new Set<string>();
  const add = (kind: EntityKind, name: string | null): void => {
    if (name !== null) wanted.add(entityKey(kind, name));
  };
  const unknown: string[] = [];
  for (const target of targets) {
    add(target.kind, target.name);
    switch (target.kind) {
      case 'organization':
        break;
      case 'collaboration':
        for (const c of desired.collaborations.filter((c) => c.name === target.name)) c.members.forEach((m) => add('organization', m));
        break;
      case 'node':
        for (const n of desired.nodes.filter((n) => n.name === target.name)) {
          add('organization', n.organization);
          add('collaboration', n.collaboration);
          desired.collaborations.find((c) => c.name === n.collaboration)?.members.forEach((m) => add('organization', m));
        }
        break;
      case 'study':
        for (const s of desired.studies.filter((s) => s.name === target.name)) {
          add('collaboration', s.collaboration);
          desired.collaborations.find((c) => c.name === s.collaboration)?.members.forEach((m) => add('organization', m));
        }
        break;
      case 'role':
        for (const r of desired.roles.filter((r) => r.name === target.name)) add('organization', r.organization);
        break;
      case 'user':
        for (const u of desired.users.filter((u) => u.username === target.name)) {
          add('organization', u.organization);
          add('identity_provider', u.signIn?.provider ?? null);
          for (const ref of u.roles) {
            if (desired.roles.some((r) => r.name === ref.name && r.organization === ref.organization)) {
              add('role', ref.name);
              add('organization', ref.organization);
            }
          }
        }
        break;
      case 'algorithm_store':
        for (const st of desired.algorithmStores.filter((st) => st.url === target.name)) st.collaborations.forEach((c) => add('collaboration', c));
        break;
      case 'store_role':
      case 'identity_provider':
        break;
      case 'store_user':
        for (const u of desired.storeUsers.filter((u) => storeLabel(u.username, u.store) === target.name)) {
          for (const role of u.roles) add('store_role', storeLabel(role, u.store));
        }
        break;
      default: {
        const never: never = target.kind;
        throw new FedctlError('CONFIG_INVALID', `unknown kind ${String(never)}`);
      }
    }
    const inPlan = [...plan.changes, ...plan.unmanaged, ...plan.blocked].some((item) => item.kind === target.kind && nameOf(item) === target.name);
    if (!inPlan && !declared(desired, target)) unknown.push(`${target.kind}/${target.name}`);
  }
  if (unknown.length > 0) {
    throw new FedctlError('CONFIG_INVALID', `--target names nothing in the config or the database: ${unknown.join(', ')}`,
      'use KIND/NAME with kind organization, collaboration, node, study, role, user, algorithm_store (its URL) or identity_provider (its alias)');
  }
  const keep = (item: { kind: EntityKind; address: string }): boolean => wanted.has(entityKey(item.kind, nameOf(item)));
  return {
    ...plan,
    changes: plan.changes.filter(keep),
    unmanaged: plan.unmanaged.filter(keep),
    blocked: plan.blocked.filter(keep),
  };
}

/** The name `--target` uses: a role's address also shows its organization, `Name (Org)`. */
function nameOf(item: { kind: EntityKind; address: string }): string {
  return item.kind === 'role' ? item.address.replace(/ \([^()]*\)$/, '') : item.address;
}

function declared(desired: DesiredState, target: EntitySelector): boolean {
  switch (target.kind) {
    case 'organization': return desired.organizations.some((o) => o.name === target.name);
    case 'collaboration': return desired.collaborations.some((c) => c.name === target.name);
    case 'node': return desired.nodes.some((n) => n.name === target.name);
    case 'study': return desired.studies.some((st) => st.name === target.name);
    case 'role': return desired.roles.some((r) => r.name === target.name);
    case 'user': return desired.users.some((u) => u.username === target.name);
    case 'algorithm_store': return desired.algorithmStores.some((st) => st.url === target.name);
    case 'identity_provider': return desired.identityProviders.some((p) => p.alias === target.name);
    case 'store_role': return desired.storeRoles.some((r) => storeLabel(r.name, r.store) === target.name);
    case 'store_user': return desired.storeUsers.some((u) => storeLabel(u.username, u.store) === target.name);
  }
}
