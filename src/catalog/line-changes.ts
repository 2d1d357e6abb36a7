import { STORE_POLICIES, storeCatalog, storeReleaseFor, storeRuleKey, type StoreRuleKey } from './store-catalog.js';
import { referenceCatalog } from './reference-catalog.js';
import { parseRuleKey, ruleKey, type RuleKey } from './rule-catalog.js';

/**
 * What differs between the 4.x line and vantage6 5, read from the carried
 * catalogues: what a federation moved across needs adapted. The adapting
 * stage asks this module; it never compares versions itself.
 */
export interface LineChanges {
  /** Every rule the target has. */
  readonly rules: ReadonlySet<RuleKey>;
  /** The rules of the target's built-in roles, by name (HQ's cannot be edited). */
  readonly builtInRoles: ReadonlyMap<string, ReadonlySet<RuleKey>>;
  /** The rules the target needs beside `held` to do what `held` did on 4.x: every task belongs to a session there. */
  sessionRulesFor(held: readonly RuleKey[]): RuleKey[];
  /** The rules of the stores the target links to (a 5.x store's). */
  readonly storeRules: ReadonlySet<StoreRuleKey>;
  /** The built-in roles of those stores, by name. */
  readonly storeBuiltInRoles: ReadonlySet<string>;
}

const SESSION = 'session';
const TASK = 'task';

let toFive: LineChanges | null = null;

/**
 * From 4.x to vantage6 5.0. A role that creates tasks gets the session rules
 * 5.0's own Researcher holds to start and run its sessions (a task needs
 * one); one that views or deletes tasks at a scope may view or delete the
 * sessions there, where 5.0 has such a rule.
 */
export function changesToFive(): LineChanges {
  if (toFive !== null) return toFive;
  const five = referenceCatalog('5.0');
  const rules = new Set(five.rules.map(ruleKey));
  const builtInRoles = new Map(five.defaultRoles.map((role) => [role.name, new Set(role.rules)]));
  const researcherSessions = [...(builtInRoles.get('Researcher') ?? [])].filter((key) => parseRuleKey(key).resource === SESSION);
  const store = storeCatalog(storeReleaseFor(true));
  toFive = {
    rules,
    builtInRoles,
    storeRules: new Set(store.rules.map((rule) => storeRuleKey(rule.resource, rule.operation))),
    storeBuiltInRoles: new Set(store.defaultRoles.map((role) => role.name)),
    sessionRulesFor(held) {
      const tasks = held.map(parseRuleKey).filter((rule) => rule.resource === TASK);
      const needed = new Set<RuleKey>();
      if (tasks.some((rule) => rule.operation === 'CREATE')) researcherSessions.forEach((key) => needed.add(key));
      for (const rule of tasks) {
        if (rule.operation !== 'VIEW' && rule.operation !== 'DELETE') continue;
        const session = ruleKey({ resource: SESSION, scope: rule.scope, operation: rule.operation });
        if (rules.has(session)) needed.add(session);
      }
      return [...needed].filter((key) => !held.includes(key)).sort();
    },
  };
  return toFive;
}

/** A 4.x store's policy on a 5.x store: its value there (null: it has no such policy), and what was changed, or null when nothing. */
export function storePolicyToFive<V>(name: string, value: V): { readonly value: V | 'authenticated' | null; readonly note: string | null } {
  const five = STORE_POLICIES['5.0'];
  if (!Object.hasOwn(five, name)) return { value: null, note: 'left out: a 5.x store has no such policy (it trusts HQ\'s Keycloak instead of whitelisting servers)' };
  // 4.x's `whitelisted`: users of the servers it whitelists; 5.x's `authenticated`: users of the Keycloak it trusts, HQ's.
  if (name === 'algorithm_view' && value === 'whitelisted') return { value: 'authenticated', note: '"authenticated" for 4.x\'s "whitelisted": a 5.x store\'s users are those of HQ\'s Keycloak' };
  return { value, note: null };
}
