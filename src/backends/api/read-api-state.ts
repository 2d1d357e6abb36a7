import { knownRuleKeys } from '../../catalog/reference-catalog.js';
import { DEFAULT_ROLE_NAMES, OPERATION_SPELLINGS, SCOPE_SPELLINGS, ruleKey, type RuleKey } from '../../catalog/rule-catalog.js';
import { featuresOfRelease, usesKeycloak, type Minor } from '../../catalog/vantage6-versions.js';
import { readForm } from '../../db/vantage6-tables.js';
import { FedctlError } from '../../errors.js';
import { FOREIGN_ROLE_REFUSAL, compareStrings, sortRoleRefs, sortedUnique, type EntityKind, type RoleRef } from '../../federation.js';
import { ROOT_OWNED, type ChangeLimit, type LiveRole, type LiveState, type ServerOwned } from '../../state/live-state.js';
import type { ValueTest } from '../../state/value-test.js';
import { readApiStores } from './read-api-stores.js';
import type { Vantage6Api } from './vantage6-api.js';

/** A reference as the 4.x API gives one: `{ id, link, methods }`, or null. */
interface Ref { readonly id: number }

interface ApiOrganization {
  readonly id: number; readonly name: string | null;
  readonly domain: string | null; readonly address1: string | null; readonly address2: string | null; readonly zipcode: string | null; readonly country: string | null;
}
interface ApiCollaboration { readonly id: number; readonly name: string | null; readonly encrypted: boolean | null; readonly organizations?: unknown }
interface ApiNode { readonly id: number; readonly name: string | null; readonly organization: Ref | null; readonly collaboration: Ref | null }
interface ApiStudy { readonly id: number; readonly name: string | null; readonly collaboration: Ref | null; readonly organizations?: unknown }
interface ApiRole { readonly id: number; readonly name: string | null; readonly description: string | null; readonly organization: Ref | null; readonly is_default_role?: boolean | null }
interface ApiUser {
  readonly id: number; readonly username: string | null; readonly organization: Ref | null;
  /** Not on vantage6 5, where Keycloak keeps them. */
  readonly firstname?: string | null; readonly lastname?: string | null; readonly email?: string | null;
}
interface ApiRule { readonly id: number; readonly name: string; readonly scope: string; readonly operation: string }
interface ApiTask { readonly collaboration: Ref | null; readonly init_org: Ref | null; readonly init_user: Ref | null; readonly study?: Ref | null }
interface ApiRun { readonly organization: Ref | null; readonly task: Ref | null }

/** A rule as the API writes it (names, or the short values of some releases) as fedctl's key; null for a rule fedctl cannot read. */
export function apiRuleKey(rule: Pick<ApiRule, 'name' | 'scope' | 'operation'>): RuleKey | null {
  const scope = SCOPE_SPELLINGS[String(rule.scope).toLowerCase()];
  const operation = OPERATION_SPELLINGS[String(rule.operation).toLowerCase()];
  return scope && operation ? ruleKey({ resource: rule.name, scope, operation }) : null;
}

/** Rules an account needs to see everything fedctl manages; without them a plan would take what it cannot see for missing. */
const VIEW_ALL: readonly RuleKey[] = ['organization', 'collaboration', 'node', 'role', 'user'].map((resource) => `${resource}:GLOBAL:VIEW`);
const VIEW_RUNTIME: readonly RuleKey[] = ['task:GLOBAL:VIEW', 'run:GLOBAL:VIEW'];

/**
 * What the API cannot do that a plan may ask, in the plan's terms (the
 * account's own roles and rules, and grants beyond its rules, are checked
 * with the account's rules). On vantage6 5 a user's username and a node's
 * name are also the names of their Keycloak user and client, which HQ never
 * renames; names and e-mail addresses are refused by validation instead.
 */
export function apiLimits(minor: Minor, account: string): ChangeLimit[] {
  const keycloak = usesKeycloak(minor);
  return [
    ...(keycloak
      ? [
        { kind: 'user' as const, change: { field: 'username' }, reason: 'HQ cannot rename a user: its username is its Keycloak user\'s; create the user anew instead' },
        { kind: 'node' as const, change: { field: 'name' },
          reason: 'HQ cannot rename a node: its node logs in as the Keycloak client named after the name it was created with' },
      ]
      : [{ kind: 'user' as const, change: 'create' as const, lacking: 'email', reason: 'the API creates a user only with an e-mail address: add email:' }]),
    { kind: 'user', change: 'create', lacking: 'password', unlessWith: 'signIn', reason: 'the API creates a user only with a password: add password: generate (or ${VAR})' },
    { kind: 'user', change: { field: 'password' }, reason: 'the API cannot set another user\'s password (only the user, or the e-mail recovery, can)' },
    { kind: 'user', change: { field: 'organization' }, reason: 'the API cannot move a user to another organization' },
    { kind: 'user', change: { field: 'roles' }, address: account, reason: 'an account cannot change its own roles through the API' },
    { kind: 'user', change: { field: 'rules' }, address: account, reason: 'an account cannot change its own rules through the API' },
    { kind: 'study', change: { field: 'collaboration' }, reason: 'the API cannot move a study to another collaboration' },
    { kind: 'role', change: 'create', lacking: 'organization',
      reason: 'the API gives every role it creates an organization (the account\'s, when none is given): a role without organization can only be made in the database' },
    { kind: 'user', change: 'create', foreignRoles: true, reason: FOREIGN_ROLE_REFUSAL },
    { kind: 'user', change: { field: 'roles' }, foreignRoles: true, reason: FOREIGN_ROLE_REFUSAL },
    ...(minor < 7 ? [{ kind: 'organization' as const, change: 'delete' as const, reason: 'vantage6 before 4.7 cannot delete an organization through its API' }] : []),
    ...(keycloak ? [] : [{
      kind: 'algorithm_store' as const, change: 'shrink' as const,
      reason: 'the 4.x API takes collaborations out of a store\'s link only by unlinking the store, which makes the store delete its users of this server and their store roles: '
        + 'apply this through the server\'s database (--database), which takes out the collaboration\'s link alone, or unlink and link the store anew on purpose',
    }]),
    ...NAMED_KINDS.flatMap(([kind, field]) => (['create', { field }] as const).map((change) => ({
      kind, change, refusedValue: { field, tests: API_NAME_TESTS },
      reason: `the API refuses a ${field} of more than ${API_NAME_LENGTH} characters, or of digits only: give a shorter one${kind === 'node' ? ' (for a node named by default, set node.name)' : ''}`,
    }))),
  ];
}

/** The longest name the API takes (every release's input schemas: MAX_LEN_NAME). */
const API_NAME_LENGTH = 128;

/** What the API refuses as a name: more characters than that (Python counts code points), or digits only (Python's isnumeric: any digits, not only ASCII's). */
const API_NAME_TESTS: readonly ValueTest[] = [
  { test: 'length', max: API_NAME_LENGTH, unit: 'code point', trim: false },
  { test: 'pattern', pattern: '^\\p{N}+$', refuse: 'match' },
];

/** The kinds whose name the API checks on create and rename, and the field that holds it (a role's check is overridden by its own). */
const NAMED_KINDS: readonly (readonly [EntityKind, 'name' | 'username'])[] = [
  ['organization', 'name'], ['collaboration', 'name'], ['node', 'name'], ['study', 'name'], ['user', 'username'],
];

/**
 * HQ's first start makes organization root and, in it, the user its
 * KEYCLOAK_ADMIN_USERNAME names (admin, unless set otherwise): the first
 * user of root, since nothing can make another before it.
 */
function hqOwned(users: readonly ApiUser[], orgName: ReadonlyMap<number, string>): Omit<ServerOwned, 'account'> {
  const first = users.filter((u) => u.username !== null && orgName.get(id(u.organization) ?? -1) === ROOT_OWNED.organization)
    .sort((a, b) => a.id - b.id)[0];
  return { organization: ROOT_OWNED.organization, user: first?.username ?? null };
}

/** The ids of the organizations an API item lists inline (`?include=organizations`). */
function inlineIds(value: unknown): number[] {
  return Array.isArray(value) ? value.flatMap((item) => (typeof item === 'object' && item !== null && typeof (item as Ref).id === 'number' ? [(item as Ref).id] : [])) : [];
}

const id = (ref: Ref | null | undefined): number | null => ref?.id ?? null;

/** Group (owner, target) pairs as a set per owner. */
function groupPairs(pairs: Iterable<readonly [number, number]>): Map<number, Set<number>> {
  const groups = new Map<number, Set<number>>();
  for (const [owner, target] of pairs) groups.set(owner, (groups.get(owner) ?? new Set()).add(target));
  return groups;
}

/**
 * Read the whole administrative state through a 4.x server's list
 * endpoints: one listing of each kind, page by page, and the links between
 * them from their bounded side (per rule of the catalogue, per role, and per
 * collaboration and study where the release cannot list members inline), in
 * parallel. What tasks and runs refer to is read only for deletes.
 */
export async function readApiState(api: Vantage6Api, minor: Minor, options: { readonly forDeletes: boolean }): Promise<LiveState> {
  const features = featuresOfRelease(minor);
  const inline = minor >= 3;
  const include: Record<string, string> = inline ? { include: 'organizations' } : {};
  // The catalogue and the roles first: the links are read from their side while the other lists load.
  const [rules, roles, accountRules] = await Promise.all([api.list<ApiRule>('rule'), api.list<ApiRole>('role'), api.list<ApiRule>('rule', { user_id: api.account.id })]);
  const held = sortedUnique(accountRules.flatMap((rule) => apiRuleKey(rule) ?? []));
  const lacking = [...VIEW_ALL, ...(features.studies ? ['study:GLOBAL:VIEW'] : []), ...(options.forDeletes ? VIEW_RUNTIME : [])]
    .filter((key) => !held.includes(key));
  if (lacking.length > 0) {
    throw new FedctlError('SERVER_ACCOUNT', `the account ${api.account.username} cannot see everything fedctl manages on ${api.url}: it lacks ${lacking.join(', ')}`,
      'give it the Root role, or a role with these rules: a plan of what it cannot see would take it for missing');
  }
  const byRole = roles.length <= rules.length;
  // HQ 5.0.3 fails on `user?role_id=` for a role without organization (its permission check takes the role's organization): read users' roles per user there.
  const rolesByUser = usesKeycloak(minor);
  const users = api.list<ApiUser>('user');
  users.catch(() => undefined);
  const links = Promise.all([
    byRole
      ? Promise.all(roles.map(async (role) => (await api.list<ApiRule>('rule', { role_id: role.id })).map((rule) => [role.id, rule.id] as const)))
      : Promise.all(rules.map(async (rule) => (await api.list<ApiRole>('role', { rule_id: rule.id })).map((role) => [role.id, rule.id] as const))),
    rolesByUser
      ? Promise.all((await users).map(async (user) => (await api.list<ApiRole>('role', { user_id: user.id })).map((role) => [user.id, role.id] as const)))
      : Promise.all(roles.map(async (role) => (await api.list<ApiUser>('user', { role_id: role.id })).map((user) => [user.id, role.id] as const))),
    Promise.all(rules.map(async (rule) => (await api.list<ApiUser>('user', { rule_id: rule.id })).map((user) => [user.id, rule.id] as const))),
  ]);
  links.catch(() => undefined);
  const [organizations, collaborations, nodes, studies] = await Promise.all([
    api.list<ApiOrganization>('organization'),
    api.list<ApiCollaboration>('collaboration', include),
    api.list<ApiNode>('node'),
    features.studies ? api.list<ApiStudy>('study', include) : Promise.resolve([]),
  ]);
  const ruleKeyById = new Map(rules.flatMap((rule) => {
    const key = apiRuleKey(rule);
    return key === null ? [] : [[rule.id, key] as const];
  }));
  // Members, where the release cannot list them inline; what tasks and runs refer to, for deletes; the store links.
  const [[roleRuleLists, userRoleLists, userRuleLists], memberLists, studyMemberLists, runtime, algorithmStores] = await Promise.all([
    links,
    inline
      ? collaborations.map((c) => inlineIds(c.organizations).map((org) => [c.id, org] as const))
      : Promise.all(collaborations.map(async (c) => (await api.list<ApiOrganization>('organization', { collaboration_id: c.id })).map((o) => [c.id, o.id] as const))),
    inline
      ? studies.map((st) => inlineIds(st.organizations).map((org) => [st.id, org] as const))
      : Promise.all(studies.map(async (st) => (await api.list<ApiOrganization>('organization', { study_id: st.id })).map((o) => [st.id, o.id] as const))),
    options.forDeletes ? readRuntime(api, nodes) : Promise.resolve([]),
    features.algorithmStores ? readApiStores(api, collaborations) : Promise.resolve([]),
  ]);
  const roleRules = groupPairs(roleRuleLists.flat());
  const userRoles = groupPairs(userRoleLists.flat());
  const userRules = groupPairs(userRuleLists.flat());
  const members = groupPairs(memberLists.flat());
  const studyMembers = groupPairs(studyMemberLists.flat());

  const orgName = new Map(organizations.flatMap((o) => (o.name === null ? [] : [[o.id, o.name] as const])));
  const collabName = new Map(collaborations.flatMap((c) => (c.name === null ? [] : [[c.id, c.name] as const])));
  const nameOf = (map: ReadonlyMap<number, string>, ref: number | null): string | null => (ref === null ? null : map.get(ref) ?? null);
  const namesOf = (map: ReadonlyMap<number, string>, ids: Iterable<number> | undefined): string[] =>
    sortedUnique([...(ids ?? [])].flatMap((ref) => map.get(ref) ?? []));

  const liveRoles: LiveRole[] = roles.flatMap((role) => (role.name === null ? [] : [{
    id: role.id,
    name: role.name,
    organization: nameOf(orgName, id(role.organization)),
    description: readForm(role.description),
    rules: namesOf(ruleKeyById, roleRules.get(role.id)),
    // As in the database: before 4.3 (no flag) the built-in roles are those of their names without organization.
    isDefault: role.is_default_role === null || role.is_default_role === undefined
      ? role.organization === null && DEFAULT_ROLE_NAMES.has(role.name)
      : role.is_default_role,
  }]));
  const roleRef = new Map<number, RoleRef>(liveRoles.map((role) => [role.id, { name: role.name, organization: role.organization }]));
  const known = knownRuleKeys();

  return {
    server: {
      versions: { from: minor, to: minor },
      release: api.version,
      features,
      unknown: { tables: [], columns: [], rules: [...ruleKeyById.values()].filter((key) => !known.has(key)).sort(compareStrings) },
      limits: apiLimits(minor, api.account.username),
      grantable: held,
      owned: { ...(usesKeycloak(minor) ? hqOwned(await users, orgName) : ROOT_OWNED), account: api.account.username },
    },
    rules: [...ruleKeyById].map(([ruleId, key]) => ({ id: ruleId, key })),
    organizations: organizations.flatMap((o) => (o.name === null ? [] : [{
      id: o.id, name: o.name,
      domain: readForm(o.domain), address1: readForm(o.address1), address2: readForm(o.address2), zipcode: readForm(o.zipcode), country: readForm(o.country),
    }])),
    collaborations: collaborations.flatMap((c) => (c.name === null ? [] : [{
      id: c.id, name: c.name, encrypted: c.encrypted ?? true, members: namesOf(orgName, members.get(c.id)),
    }])),
    nodes: nodes.flatMap((n) => (n.name === null ? [] : [{
      id: n.id, name: n.name, organization: nameOf(orgName, id(n.organization)), collaboration: nameOf(collabName, id(n.collaboration)),
    }])),
    studies: studies.flatMap((st) => {
      const collaboration = nameOf(collabName, id(st.collaboration));
      return st.name === null || collaboration === null ? [] : [{ id: st.id, name: st.name, collaboration, organizations: namesOf(orgName, studyMembers.get(st.id)) }];
    }),
    roles: liveRoles,
    users: (await users).flatMap((u) => (u.username === null ? [] : [{
      id: u.id,
      username: u.username,
      organization: nameOf(orgName, id(u.organization)),
      firstname: readForm(u.firstname ?? null),
      lastname: readForm(u.lastname ?? null),
      email: u.email ?? null,
      // A 4.x server has no disabled users; HQ's are in Keycloak, which the Keycloak component reads.
      enabled: true,
      roles: sortRoleRefs([...(userRoles.get(u.id) ?? [])].flatMap((roleId) => roleRef.get(roleId) ?? [])),
      rules: namesOf(ruleKeyById, userRules.get(u.id)),
    }])),
    algorithmStores,
    storeRoles: [],
    storeUsers: [],
    storePolicies: [],
    inUse: runtime,
  };
}

/** What tasks and runs refer to, as `readState` finds it in the database. */
async function readRuntime(api: Vantage6Api, nodes: readonly ApiNode[]): Promise<{ kind: EntityKind; id: number }[]> {
  const [tasks, runs] = await Promise.all([api.list<ApiTask & { id: number }>('task'), api.list<ApiRun>('run')]);
  const inUse = new Map<string, { kind: EntityKind; id: number }>();
  const add = (kind: EntityKind, ref: number | null): void => {
    if (ref !== null) inUse.set(`${kind}:${ref}`, { kind, id: ref });
  };
  const taskCollab = new Map(tasks.map((task) => [task.id, id(task.collaboration)]));
  for (const task of tasks) {
    add('collaboration', id(task.collaboration));
    add('study', id(task.study));
    add('organization', id(task.init_org));
    add('user', id(task.init_user));
  }
  const ranIn = new Set<string>();
  for (const run of runs) {
    add('organization', id(run.organization));
    ranIn.add(`${id(run.organization)}:${taskCollab.get(id(run.task) ?? -1) ?? null}`);
  }
  for (const node of nodes) if (ranIn.has(`${id(node.organization)}:${id(node.collaboration)}`)) add('node', node.id);
  return [...inUse.values()].sort((a, b) => compareStrings(a.kind, b.kind) || a.id - b.id);
}
