import { accessChanges, accessDelta } from '../access/access-changes.js';
import type { Guardrail } from '../federation.js';
import type { Plan } from '../plan/plan.js';
import type { LiveState } from '../state/live-state.js';
import { planViolations } from './guardrails.js';

/**
 * A plan with what it means for who can do what: the access its changes give
 * and take, and the config's guardrails it would break (which refuse it).
 * The stage after the diff; pure.
 */
export function assessPlan(plan: Plan, live: LiveState, guardrails: readonly Guardrail[]): Plan {
  const delta = accessDelta(live, plan.changes);
  const access = accessChanges(delta);
  const violations = planViolations(guardrails, delta);
  return { ...plan, ...(access === undefined ? {} : { access }), ...(violations.length > 0 ? { violations } : {}) };
}
