import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { FederationAccess, type AccessModel, type ListKind } from '../../src/access/user-access.js';
import { compareStrings, type DesiredState, type RoleRef } from '../../src/federation.js';
import type { CliResult } from '../helpers/run-cli.js';
import { OPERATION_SPELLINGS, SCOPE_SPELLINGS, ruleKey, type RuleKey } from '../../src/catalog/rule-catalog.js';
import { DATABASE_RELEASES, parseVersion, type DatabaseRelease } from '../../src/catalog/vantage6-versions.js';
import type { NodeSecretEntry } from '../../src/secrets/secrets-store.js';
import { isSession, v4Login, type ServerLogin, type ServerSession } from './server-api.js';

/** The carried release `fedctl init` makes a database of for a server release: its own, else the newest before it. */
export function initReleaseFor(release: string): DatabaseRelease {
  const minor = parseVersion(release) as number;
  return [...DATABASE_RELEASES].reverse().find((r) => (parseVersion(r) as number) <= minor) as DatabaseRelease;
}

/** A rule as the API shows it (`{name, scope, operation}`, names or short values) as fedctl's key. */
export function apiRuleKey(rule: { name: string; scope: string; operation: string }): RuleKey {
  const scope = SCOPE_SPELLINGS[rule.scope.toLowerCase()];
  const operation = OPERATION_SPELLINGS[rule.operation.toLowerCase()];
  assert.ok(scope && operation, `a rule as the API shows it: ${JSON.stringify(rule)}`);
  return ruleKey({ resource: rule.name, scope, operation });
}

interface ApiRole { id: number; name: string; organization: { id: number } | null; is_default_role?: boolean }
interface ApiUser { id: number; username: string; organization: { id: number } | null; firstname: string | null; lastname: string | null }
interface ApiNamed { id: number; name: string }

/** What the server holds, as its administrator sees it through the API. */
export interface ServerView {
  readonly login: ServerLogin;
  readonly root: ServerSession;
  readonly organizations: ApiNamed[];
  readonly collaborations: ApiNamed[];
  readonly roles: ApiRole[];
  readonly users: ApiUser[];
  readonly nodes: ApiNamed[];
  /** Rules of a role, by role id (built-in roles included). */
  roleRules(roleId: number): Promise<RuleKey[]>;
  organizationId(name: string): number;
  userId(username: string): number;
}

/** The view of a 4.x server's API URL, or of any server by how its users log in. */
export async function serverView(server: string | ServerLogin): Promise<ServerView> {
  const login = typeof server === 'string' ? v4Login(server) : server;
  const root = await login.admin();
  const [organizations, collaborations, roles, users, nodes] = await Promise.all([
    root.list<ApiNamed>('/organization'), root.list<ApiNamed>('/collaboration'), root.list<ApiRole>('/role'),
    root.list<ApiUser>('/user'), root.list<ApiNamed>('/node'),
  ]);
  const byName = <T extends { id: number }>(items: T[], name: (item: T) => string, wanted: string, what: string): number => {
    const found = items.find((item) => name(item) === wanted);
    assert.ok(found, `the server has ${what} ${JSON.stringify(wanted)}`);
    return found.id;
  };
  return {
    login,
    root,
    organizations: organizations ?? [], collaborations: collaborations ?? [], roles: roles ?? [], users: users ?? [], nodes: nodes ?? [],
    async roleRules(roleId) {
      const rules = await root.list<{ name: string; scope: string; operation: string }>(`/rule?role_id=${roleId}`);
      return [...new Set((rules ?? []).map(apiRuleKey))].sort();
    },
    organizationId: (name) => byName(organizations ?? [], (o) => o.name, name, 'organization'),
    userId: (username) => byName(users ?? [], (u) => u.username, username, 'user'),
  };
}

/** A federation as a config describes it: what the server should hold after apply. */
export type ConfigFederation = Pick<DesiredState, 'organizations' | 'collaborations' | 'nodes' | 'roles' | 'users'>;

/**
 * The access model of what the server holds: every organization it has
 * (managed or not), the collaborations, nodes, roles and users of the
 * federations applied (from their configs), and the built-in roles with the
 * rules the server gives them.
 */
export async function accessModel(view: ServerView, federations: readonly ConfigFederation[]): Promise<AccessModel> {
  const builtIn = await Promise.all(view.roles.filter((r) => r.organization === null && !federations.some((f) => f.roles.some((c) => c.organization === null && c.name === r.name)))
    .map(async (r) => ({ name: r.name, organization: null, rules: await view.roleRules(r.id) })));
  return {
    organizations: view.organizations.map((o) => ({ name: o.name })),
    collaborations: federations.flatMap((f) => f.collaborations),
    nodes: federations.flatMap((f) => f.nodes),
    roles: [...builtIn, ...federations.flatMap((f) => f.roles)],
    users: federations.flatMap((f) => f.users),
  };
}

/** The roles and rules the server reports for each user equal the config's. */
export async function assertRolesAndRules(view: ServerView, federation: ConfigFederation, access: FederationAccess): Promise<void> {
  const roleName = (ref: RoleRef): string => (ref.organization === null ? ref.name : `${ref.name} (${ref.organization})`);
  const orgName = new Map(view.organizations.map((o) => [o.id, o.name]));
  for (const user of federation.users) {
    const id = view.userId(user.username);
    const roles = await view.root.list<ApiRole>(`/role?user_id=${id}`);
    assert.deepEqual((roles ?? []).map((r) => roleName({ name: r.name, organization: r.organization === null ? null : orgName.get(r.organization.id) ?? '?' })).sort(),
      user.roles.map(roleName).sort(), `roles of ${user.username}`);
    const rules = await view.root.list<{ name: string; scope: string; operation: string }>(`/rule?user_id=${id}`);
    assert.deepEqual([...new Set((rules ?? []).map(apiRuleKey))].sort(), access.rulesOf(user.username), `rules of ${user.username}`);
  }
  for (const role of federation.roles) {
    const found = view.roles.find((r) => r.name === role.name && (r.organization === null ? null : orgName.get(r.organization.id)) === role.organization);
    assert.ok(found, `the server has role ${roleName(role)}`);
    assert.deepEqual(await view.roleRules(found.id), [...role.rules].sort(), `rules of role ${roleName(role)}`);
  }
}

/** By kind, the names a user gets from the server's lists; null where it refuses the list. */
export type AccessLists = Readonly<Record<ListKind, readonly string[] | null>>;

/**
 * What `fedctl access --user … --json` says each user gets from the server's
 * lists: run as `fedctl` runs it (on a database or through an API), or
 * offline on a config (`config`: the file and its flags).
 */
export async function fedctlSays(fedctl: (args: string[]) => Promise<CliResult>, usernames: readonly string[], config: readonly string[] = []): Promise<Map<string, AccessLists>> {
  const result = await fedctl(['access', ...config, ...usernames.flatMap((u) => ['--user', u]), '--json']);
  assert.equal(result.code, 0, result.stderr);
  const { users } = JSON.parse(result.stdout) as { users: { username: string; lists: AccessLists }[] };
  return new Map(users.map((u) => [u.username, u.lists]));
}

/** An item of one of the server's lists: named, or a user with a username, or a role of an organization. */
type ApiListed = ApiNamed & { username?: string; organization?: { id: number } | null };

/** The server's lists, and how a user names what is in them. */
const LISTS: readonly [ListKind, string, (item: ApiListed, orgName: (id: number) => string) => string][] = [
  ['organization', '/organization', (item) => item.name],
  ['collaboration', '/collaboration', (item) => item.name],
  ['node', '/node', (item) => item.name],
  ['user', '/user', (item) => item.username ?? ''],
  ['role', '/role', (item, orgName) => (item.organization ? `${item.name} (${orgName(item.organization.id)})` : item.name)],
];

/**
 * Each user with a password logs in, and gets from the server's lists of
 * organizations, collaborations, nodes, users and roles exactly what fedctl
 * says they get (where they disagree, the server is right).
 */
export async function assertUsersLogInAndSee(view: ServerView, passwords: Readonly<Record<string, string>>, expected: ReadonlyMap<string, AccessLists>): Promise<number> {
  const names = new Map(view.organizations.map((o) => [o.id, o.name]));
  const orgName = (id: number): string => names.get(id) ?? `organization ${id}`;
  let checked = 0;
  for (const [username, password] of Object.entries(passwords)) {
    const session = await view.login.user(username, password);
    assert.ok(isSession(session), `${username} logs in: ${'refusal' in session ? session.refusal : ''}`);
    const says = expected.get(username);
    assert.ok(says, `fedctl access reports ${username}`);
    for (const [kind, endpoint, name] of LISTS) {
      const listed: ApiListed[] | null = await session.list<ApiListed>(endpoint);
      const got: string[] | null = listed === null ? null : [...new Set(listed.map((item) => name(item, orgName)))].sort(compareStrings);
      assert.deepEqual(got, says[kind], `the ${kind}s ${username} gets from the server, and fedctl access says`);
    }
    checked++;
  }
  return checked;
}

/** Every node logs in with its key and sees its own collaboration. */
export async function assertNodesLogIn(view: ServerView, keys: Readonly<Record<string, { api_key: string; collaboration: string }>>): Promise<void> {
  for (const [name, { api_key: key, collaboration }] of Object.entries(keys)) {
    const session = await view.login.node(name, key);
    assert.ok(isSession(session), `node ${name} logs in: ${'refusal' in session ? session.refusal : ''}`);
    const node = await session.request<{ name: string; collaboration: { id: number } }>('GET', `/node/${session.id}`);
    assert.equal(node.name, name, 'the key is this node\'s');
    const collab = await session.request<ApiNamed>('GET', `/collaboration/${node.collaboration.id}`);
    assert.equal(collab.name, collaboration, `node ${name} sees its collaboration`);
  }
}

/** The plaintext secrets file apply wrote. */
export function plaintextSecrets(file: string): { nodes: Record<string, NodeSecretEntry>; users: Record<string, { password: string }> } {
  const content = load(readFileSync(file, 'utf8')) as { nodes?: Record<string, NodeSecretEntry>; users?: Record<string, { password: string }> };
  return { nodes: content.nodes ?? {}, users: content.users ?? {} };
}

/** `age -d` as a node's operator runs it on a node configuration file; its `api_key`. */
export function nodeFileKey(identity: string, file: string): string {
  const key = (openNodeFile(identity, file) as { api_key?: string }).api_key;
  assert.ok(typeof key === 'string', `${path.basename(file)} has an api_key`);
  return key;
}

/** A node file (4.x configuration or vantage6 5 Helm values) as its operator opens it: `age -d`, then YAML. */
export function openNodeFile(identity: string, file: string): unknown {
  return load(execFileSync('age', ['-d', '-i', identity, file]).toString());
}

/**
 * `age -d` of a vantage6 5 node's values file, as its operator runs it: the
 * node, HQ (at the example's address, HQ's default path) and the Keycloak it
 * names; its `apiKey`.
 */
export function hqNodeValuesKey(identity: string, file: string, name: string, keycloak: string): string {
  const values = openNodeFile(identity, file) as {
    node: { name: string; apiKey: string; hq: { url: string; port: number; path: string }; keycloak: { url: string; realm: string } };
  };
  assert.equal(values.node.name, name);
  assert.deepEqual(values.node.hq, { url: 'https://v6.example.org', port: 443, path: '/hq' });
  assert.deepEqual(values.node.keycloak, { url: keycloak, realm: 'vantage6' });
  return values.node.apiKey;
}
