import { describeRule, type RuleKey } from '../catalog/rule-catalog.js';
import { compareStrings, roleLabel, sortedUnique } from '../federation.js';
import type { AccessChanges, Plan } from '../plan/plan.js';
import type { LiveState } from '../state/live-state.js';
import { accessChanges, type AccessDelta, type ReachedUser } from './access-changes.js';
import { modelAfter } from './access-model.js';
import { FederationAccess } from './user-access.js';

/** How many rules a cause names before it counts the rest. */
const NAMED = 4;

const listed = (keys: readonly RuleKey[]): string => {
  const named = keys.slice(0, NAMED).map(describeRule).join(', ');
  return keys.length > NAMED ? `${named} and ${keys.length - NAMED} more` : named;
};

const delta = (before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } => ({
  added: after.filter((x) => !before.includes(x)), removed: before.filter((x) => !after.includes(x)),
});

/**
 * Who can do what on another server (the one a federation moves from)
 * against what they will be able to do on this one once the plan is
 * applied, user by user (matched by username; organizations and
 * collaborations by name), each difference with its causes: roles held
 * otherwise, a built-in role that differs between the two servers, a role
 * whose rules differ, rules the other server has that this one lacks, a user
 * only on one side. The servers' own administrators and fedctl's accounts
 * are not compared. Pure; undefined when nobody's access differs.
 */
export function accessAcrossServers(other: LiveState, live: LiveState, plan: Plan): AccessChanges | undefined {
  const before = new FederationAccess(other);
  const after = new FederationAccess(modelAfter(live, plan));
  // The servers' own administrators and fedctl's accounts are not the federation's: a move leaves them where they are.
  const own = new Set([other, live].flatMap(({ server: { owned } }) => [owned.user, owned.account].filter((name): name is string => name !== null)));
  const usernames = sortedUnique([...before.model.users, ...after.model.users].map((user) => user.username)).filter((username) => !own.has(username));
  const rulesHere = new Set(live.rules.map((rule) => rule.key));
  const rolesOf = (access: FederationAccess): Map<string, readonly RuleKey[]> => new Map(access.model.roles.map((role) => [roleLabel(role), role.rules]));
  const rolesBefore = rolesOf(before);
  const rolesAfter = rolesOf(after);
  const builtIn = new Set(live.roles.filter((role) => role.isDefault).map((role) => roleLabel(role)));

  const causes = (user: ReachedUser): string[] => {
    const was = before.user(user.old);
    const is = after.user(user.username);
    if (was === undefined) return ['they are not on the other server'];
    if (is === undefined) return ['they are not on this server'];
    const found: string[] = [];
    const roles = delta(was.roles.map(roleLabel), is.roles.map(roleLabel));
    if (roles.added.length + roles.removed.length > 0) {
      found.push(`their roles ${[...roles.added.map((r) => `+ ${JSON.stringify(r)}`), ...roles.removed.map((r) => `- ${JSON.stringify(r)}`)].join(', ')}`);
    }
    for (const label of is.roles.map(roleLabel).filter((r) => rolesBefore.has(r))) {
      const rules = delta(rolesBefore.get(label) ?? [], rolesAfter.get(label) ?? []);
      if (rules.added.length + rules.removed.length === 0) continue;
      const what = builtIn.has(label) ? `built-in role ${JSON.stringify(label)} differs here` : `role ${JSON.stringify(label)}: rules differ`;
      found.push(`${what}: ${[rules.added.length > 0 ? `+ ${listed(rules.added)}` : '', rules.removed.length > 0 ? `- ${listed(rules.removed)}` : ''].filter((s) => s !== '').join('; ')}`);
    }
    const ownRules = delta(was.rules, is.rules);
    if (ownRules.added.length > 0) found.push(`their rules + ${listed(ownRules.added)}`);
    const lacking = [...was.rules, ...was.roles.flatMap((ref) => rolesBefore.get(roleLabel(ref)) ?? [])].filter((key) => !rulesHere.has(key));
    if (lacking.length > 0) found.push(`this server has no rule ${listed(sortedUnique(lacking))}`);
    else if (ownRules.removed.length > 0) found.push(`their rules - ${listed(ownRules.removed)}`);
    if (was.organization !== is.organization) found.push(`their organization ${JSON.stringify(was.organization)} -> ${JSON.stringify(is.organization)}`);
    if (found.length === 0) found.push('the collaborations or organizations their scopes reach differ');
    return found;
  };
  const across: AccessDelta = {
    before, after,
    reached: usernames.sort(compareStrings).map((username) => ({ username, old: username })),
    translate: { organization: (name) => name, collaboration: (name) => name },
    causes,
  };
  return accessChanges(across);
}
