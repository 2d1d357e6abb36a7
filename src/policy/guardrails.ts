import { parseRuleKey, readableSpelling, type RuleKey } from '../catalog/rule-catalog.js';
import { compareStrings, roleLabel, type Guardrail, type RoleMatcher, type RoleRef, type RulePattern } from '../federation.js';
import type { AccessDelta, ReachedUser } from '../access/access-changes.js';
import type { StorePermission } from '../access/store-access.js';
import type { AccessProfile, FederationAccess } from '../access/user-access.js';
import type { GuardrailViolation } from '../plan/plan.js';

/** A rule a user holds against a guardrail's `only`, and how they hold it. */
export interface ForbiddenHolding {
  /** The rule's identity: a server rule key, or a store rule and its store. */
  readonly rule: string;
  /** `user: create (global)`, `store.review: edit at store "X"`. */
  readonly what: string;
  /** `role "X"`, `own rule`, `store role "Y"`. */
  readonly how: readonly string[];
}

/** A guardrail a federation breaks: by one user (`only`), or by too many users (`at_most`). */
export interface FederationBreach {
  readonly guardrail: string;
  /** The user holding forbidden rules; absent for too many holders. */
  readonly username?: string;
  readonly message: string;
}

export function ruleMatches(pattern: RulePattern, key: RuleKey): boolean {
  const { resource, scope, operation } = parseRuleKey(key);
  return (pattern.resources === undefined || pattern.resources.includes(resource))
    && (pattern.scopes === undefined || pattern.scopes.includes(scope))
    && (pattern.operations === undefined || pattern.operations.includes(operation));
}

const roleAllowed = (matchers: readonly RoleMatcher[], ref: RoleRef): boolean =>
  matchers.some((m) => m.name === ref.name && (m.organization === undefined || m.organization === ref.organization));

/** `a rule of task: delete (any scope)`, `a rule of store.review: edit at a store`: what a guardrail is about. */
export function describePattern(guardrail: Guardrail): string {
  const pattern = guardrail.rules;
  const any = (values: readonly string[] | undefined, what: string): string => (values === undefined ? `any ${what}` : values.join('/'));
  const spelled = (values: readonly Parameters<typeof readableSpelling>[0][] | undefined): string[] | undefined => values?.map(readableSpelling);
  const where = guardrail.stores ? 'at a store' : `(${any(spelled(pattern.scopes), 'scope')})`;
  return `a rule of ${any(pattern.resources, 'resource')}: ${any(spelled(pattern.operations), 'operation')} ${where}`;
}

/**
 * The matching rules a user holds that the guardrail's `only` does not
 * allow: a listed user may hold them all; others only through a listed role
 * (the same rule also through another role, or as their own, adds nothing).
 */
export function forbiddenHoldings(guardrail: Guardrail, access: FederationAccess, username: string): readonly ForbiddenHolding[] {
  const only = guardrail.only;
  if (only === undefined || only.users.includes(username)) return [];
  return findings(guardrail, access, username)?.forbidden ?? [];
}

function holdsMatching(guardrail: Guardrail, access: FederationAccess, username: string): boolean {
  return findings(guardrail, access, username)?.matches ?? false;
}

interface Findings { readonly forbidden: readonly ForbiddenHolding[]; readonly matches: boolean }

/** What a guardrail finds in a profile (or a user's store permissions), worked out once each: users alike share it. */
const found = new WeakMap<Guardrail, WeakMap<object, Findings>>();

function findings(guardrail: Guardrail, access: FederationAccess, username: string): Findings | undefined {
  const held = guardrail.stores ? access.stores.permissionsOf(username) : access.profile(username);
  if (held === undefined) return undefined;
  const byHolding = found.get(guardrail) ?? new WeakMap<object, Findings>();
  found.set(guardrail, byHolding);
  let result = byHolding.get(held);
  if (result === undefined) {
    result = 'holdings' in held ? serverFindings(guardrail, held) : storeFindings(guardrail, held, access);
    byHolding.set(held, result);
  }
  return result;
}

function serverFindings(guardrail: Guardrail, profile: AccessProfile): Findings {
  const forbidden: ForbiddenHolding[] = [];
  for (const [rule, { roles, own }] of profile.holdings) {
    if (!ruleMatches(guardrail.rules, rule) || roles.some((ref) => roleAllowed(guardrail.only?.roles ?? [], ref))) continue;
    const { resource, scope, operation } = parseRuleKey(rule);
    forbidden.push({
      rule, what: `${resource}: ${readableSpelling(operation)} (${readableSpelling(scope)})`,
      how: [...roles.map((ref) => `role ${JSON.stringify(roleLabel(ref))}`).sort(compareStrings), ...(own ? ['own rule'] : [])],
    });
  }
  return { forbidden: forbidden.sort((a, b) => compareStrings(a.rule, b.rule)), matches: profile.rules.some((rule) => ruleMatches(guardrail.rules, rule)) };
}

/** A store guardrail's `only.roles` name store roles, at any store. */
function storeFindings(guardrail: Guardrail, permissions: readonly StorePermission[], access: FederationAccess): Findings {
  const { resources, operations } = guardrail.rules;
  const matching = permissions.filter((p) => (resources === undefined || resources.includes(p.resource))
    && (operations === undefined || operations.some((op) => readableSpelling(op) === p.operation)));
  const allowed = new Set((guardrail.only?.roles ?? []).map((r) => r.name));
  const forbidden = matching.filter((p) => !p.via.some((role) => allowed.has(role))).map((p): ForbiddenHolding => ({
    rule: `${p.resource}:${p.operation}\u0000${p.store}`, what: `${p.resource}: ${p.operation} at ${access.stores.target(p.store)}`,
    how: p.via.map((role) => `store role ${JSON.stringify(role)}`),
  }));
  return { forbidden, matches: matching.length > 0 };
}

/** Whether any guardrail asks who has two-factor authentication: Keycloak is then read for it. */
export const requiresTwoFactor = (guardrails: readonly Guardrail[]): boolean => guardrails.some((g) => g.require?.includes('two_factor') ?? false);

/** Whether a user holds a guardrail's rules without the two-factor authentication it requires (not known counts as without). */
function lacksTwoFactor(guardrail: Guardrail, access: FederationAccess, username: string): boolean {
  return holdsMatching(guardrail, access, username) && access.user(username)?.twoFactor !== true;
}

/** `user: create (global) through role "X"; task: delete (global) through own rule`. */
function describeHoldings(holdings: readonly ForbiddenHolding[]): string {
  return holdings.map(({ what, how }) => `${what} through ${how.join(' and ')}`).join('; ');
}

/** Who a guardrail's `only` lets hold its rules, as a hint says it. */
export function describeAllowed(guardrail: Guardrail): string {
  const only = guardrail.only;
  if (only === undefined) return 'anyone';
  const names = [
    ...only.users.map((u) => `user ${JSON.stringify(u)}`),
    ...only.roles.map((r) => `${guardrail.stores ? 'store role' : 'role'} ${JSON.stringify(r.organization === undefined ? r.name : roleLabel({ name: r.name, organization: r.organization }))}`),
  ];
  return names.length === 0 ? 'nobody' : names.join(', ');
}

/** Every breach of the guardrails in one federation (the config's, as validate checks it). */
export function federationBreaches(guardrails: readonly Guardrail[], access: FederationAccess): FederationBreach[] {
  const breaches: FederationBreach[] = [];
  for (const guardrail of guardrails) {
    const holders: string[] = [];
    for (const username of access.usernames()) {
      const forbidden = forbiddenHoldings(guardrail, access, username);
      if (forbidden.length > 0) {
        breaches.push({ guardrail: guardrail.name, username, message: `breaks guardrail ${JSON.stringify(guardrail.name)}: holds ${describeHoldings(forbidden)}` });
      }
      if (guardrail.atMost !== undefined && holdsMatching(guardrail, access, username)) holders.push(username);
    }
    if (guardrail.atMost !== undefined && holders.length > guardrail.atMost) {
      breaches.push({
        guardrail: guardrail.name,
        message: `breaks guardrail ${JSON.stringify(guardrail.name)}: ${holders.length === 1 ? '1 user holds' : `${holders.length} users hold`} ${describePattern(guardrail)}, at most ${guardrail.atMost} may: `
          + holders.sort(compareStrings).map((u) => JSON.stringify(u)).join(', '),
      });
    }
  }
  return breaches;
}

/**
 * The guardrails a plan would break, and by which of its changes: a rule
 * `only` forbids that a user would newly hold, and more holders than
 * `at_most` allows where the plan adds holders. Breaches the live state has
 * already, and the plan leaves as they are, are not the plan's. Users
 * breaking a guardrail the same way for the same reasons are one violation.
 */
export function planViolations(guardrails: readonly Guardrail[], delta: AccessDelta | null): GuardrailViolation[] {
  if (delta === null || guardrails.length === 0) return [];
  const grouped = new Map<string, { guardrail: string; users: string[]; breach: string; causes: string[] }>();
  const add = (guardrail: string, user: ReachedUser, breach: string, causes: string[]): void => {
    const key = JSON.stringify([guardrail, breach, causes]);
    const group = grouped.get(key) ?? { guardrail, users: [], breach, causes };
    group.users.push(user.username);
    grouped.set(key, group);
  };
  for (const guardrail of guardrails) {
    const gained: ReachedUser[] = [];
    for (const user of delta.reached) {
      if (guardrail.only !== undefined) {
        const had = new Set(forbiddenHoldings(guardrail, delta.before, user.old).map((h) => h.rule));
        const added = forbiddenHoldings(guardrail, delta.after, user.username).filter((h) => !had.has(h.rule));
        if (added.length > 0) add(guardrail.name, user, `would hold ${describeHoldings(added)}; only ${describeAllowed(guardrail)} may`, delta.causes(user));
      }
      if (guardrail.atMost !== undefined && holdsMatching(guardrail, delta.after, user.username) && !holdsMatching(guardrail, delta.before, user.old)) gained.push(user);
    }
    if (guardrail.require?.includes('two_factor')) {
      for (const user of delta.reached) {
        if (!lacksTwoFactor(guardrail, delta.after, user.username) || lacksTwoFactor(guardrail, delta.before, user.old)) continue;
        add(guardrail.name, user, `would hold ${describePattern(guardrail)} without two-factor authentication; add configure_totp to their required_actions`, delta.causes(user));
      }
    }
    if (guardrail.atMost === undefined || gained.length === 0) continue;
    const holders = delta.after.usernames().filter((username) => holdsMatching(guardrail, delta.after, username)).length;
    if (holders <= guardrail.atMost) continue;
    const causes = [...new Set(gained.flatMap((user) => delta.causes(user)))];
    const breach = `would newly hold ${describePattern(guardrail)}, making ${holders} users who do; at most ${guardrail.atMost} may`;
    for (const user of gained) add(guardrail.name, user, breach, causes);
  }
  return [...grouped.values()];
}
