import { readFile } from 'node:fs/promises';
import { FedctlError, messageOf } from '../errors.js';
import type { IdentityProvider, KeptUser, ManagedStore, SecretsSettings } from '../federation.js';
import { PLAN_FORMAT_VERSION, type Plan } from './plan.js';

/**
 * `fedctl plan -o FILE`: a plan with the fingerprints of the live state and
 * the config it was computed from. It holds no secret: new keys and
 * passwords are made when it is applied.
 */
export interface SavedPlan {
  readonly fedctlSavedPlan: typeof PLAN_FORMAT_VERSION;
  readonly createdAt: string;
  readonly stateFingerprint: string;
  readonly configFingerprint: string;
  readonly plan: Plan;
  /** The config's recipients and server (public keys and an address, no secret), for the secrets apply makes. */
  readonly secrets?: SecretsSettings;
  /** The algorithm stores whose users, roles or policies the config manages (URLs, no secret): where apply reaches. */
  readonly stores?: readonly ManagedStore[];
  /** The config's users that keep names, e-mail or state in Keycloak (vantage6 5), with those fields: what apply reads there as the plan did. */
  readonly keptUsers?: readonly KeptUser[];
  /** The config's guardrails ask who has two-factor authentication: apply reads Keycloak for it as the plan did. */
  readonly readsTwoFactor?: true;
  /** The config's identity providers (no secret: their `${VAR}` references), where the plan read Keycloak's: apply reads them as the plan did. */
  readonly identityProviders?: readonly IdentityProvider[];
}

export function isSavedPlanFile(path: string): boolean {
  return path.endsWith('.json');
}

export async function readSavedPlan(file: string): Promise<SavedPlan> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new FedctlError('CONFIG_UNREADABLE', `cannot read saved plan ${file}: ${messageOf(error)}`, 'make one with fedctl plan CONFIG -o plan.json');
  }
  const saved = value as Partial<SavedPlan> | null;
  if (saved === null || typeof saved !== 'object' || saved.fedctlSavedPlan !== PLAN_FORMAT_VERSION || typeof saved.stateFingerprint !== 'string' || !saved.plan) {
    throw new FedctlError('CONFIG_UNREADABLE', `${file} is not a plan saved by this version of fedctl`, 'make one with fedctl plan CONFIG -o plan.json');
  }
  return saved as SavedPlan;
}
