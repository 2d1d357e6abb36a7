import type { RuleKey } from '../../src/catalog/rule-catalog.js';
import { NO_PRUNING, NO_SECRETS_SETTINGS, type DesiredState, type DesiredUser, type Guardrail, type RequiredAction, type RoleRef } from '../../src/federation.js';
import { computePlan, type PlanTarget } from '../../src/plan/compute-plan.js';
import type { PlanOptions } from '../../src/plan/plan-options.js';
import type { Plan } from '../../src/plan/plan.js';
import { assessPlan } from '../../src/policy/assess-plan.js';
import { freshState } from '../../src/state/fresh-state.js';
import type { LiveState } from '../../src/state/live-state.js';

/** A config's federation with nothing in it, for tests to fill. */
export const EMPTY_DESIRED: DesiredState = {
  organizations: [], collaborations: [], nodes: [], studies: [], roles: [], users: [], algorithmStores: [], storeRoles: [], storeUsers: [], managedStores: [], storePolicies: [], identityProviders: [],
  previousNames: {}, prune: NO_PRUNING, secrets: NO_SECRETS_SETTINGS, history: true, api: null, policy: [],
};

/** A small federation written the short way: organizations, collaborations by members, roles and users. */
export interface SmallFederation {
  readonly organizations: readonly string[];
  readonly collaborations?: Readonly<Record<string, readonly string[]>>;
  readonly roles?: readonly { readonly name: string; readonly organization?: string; readonly rules: readonly RuleKey[] }[];
  readonly users: readonly { readonly username: string; readonly organization: string; readonly roles?: readonly (string | RoleRef)[]; readonly rules?: readonly RuleKey[]; readonly email?: string; readonly requiredActions?: readonly RequiredAction[] }[];
  readonly policy?: readonly Guardrail[];
}

const ref = (role: string | RoleRef): RoleRef => (typeof role === 'string' ? { name: role, organization: null } : role);

/** The config's desired state of a small federation. */
export function desiredOf(f: SmallFederation): DesiredState {
  return {
    ...EMPTY_DESIRED,
    organizations: f.organizations.map((name) => ({ name, domain: null, address1: null, address2: null, zipcode: null, country: null })),
    collaborations: Object.entries(f.collaborations ?? {}).map(([name, members]) => ({ name, encrypted: false, members: [...members].sort() })),
    roles: (f.roles ?? []).map((r) => ({ name: r.name, organization: r.organization ?? null, description: null, rules: [...r.rules].sort() })),
    users: f.users.map((u): DesiredUser => ({
      username: u.username, organization: u.organization, firstname: null, lastname: null, email: u.email ?? null, enabled: true,
      roles: (u.roles ?? []).map(ref), rules: [...(u.rules ?? [])].sort(), password: null, ...(u.requiredActions ? { requiredActions: u.requiredActions } : {}),
    })),
    policy: f.policy ?? [],
  };
}

/** A database holding exactly a small federation, with the built-in roles, as an apply of it leaves one. */
export function liveOf(f: SmallFederation): LiveState {
  const base = freshState();
  const desired = desiredOf(f);
  return {
    ...base,
    organizations: desired.organizations.map((o, i) => ({ ...o, id: i + 1 })),
    collaborations: desired.collaborations.map((c, i) => ({ ...c, id: i + 1 })),
    roles: [...base.roles, ...desired.roles.map((r, i) => ({ ...r, id: 1000 + i, isDefault: false }))],
    users: desired.users.map(({ password: _, ...u }, i) => ({ ...u, id: i + 1 })),
  };
}

/** The plan as fedctl shows it: the diff, then what it means for access and the config's guardrails. */
export function assessedPlan(desired: DesiredState, live: LiveState, target: PlanTarget, options?: PlanOptions): Plan {
  return assessPlan(computePlan(desired, live, target, options), live, desired.policy);
}
