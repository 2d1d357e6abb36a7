import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump, load } from 'js-yaml';
import type { Plan } from '../../src/plan/plan.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { plaintextSecrets } from './conformance.js';
import { keycloakToken } from './keycloak.js';
import type { RealServer } from './real-server.js';

interface KeycloakUser { id: string; username: string; firstName?: string; lastName?: string; email?: string; enabled: boolean; requiredActions?: string[] }

/** Users of every script, e-mail addresses with plus signs and internationalized domains, and one who left. */
const PEOPLE: readonly Record<string, unknown>[] = [
  { username: 'zoe.obrien', firstname: 'Zoë', lastname: "O'Brien-Ñúñez", email: 'zoe+v6@bücher.example' },
  { username: 'li.wei', firstname: '李', lastname: '伟', email: 'li.wei+ops@例え.テスト', required_actions: ['verify_email', 'configure_totp'] },
  { username: 'mohammed', firstname: 'محمد', lastname: 'العلي 🧪', email: 'm.alali+trial@example.org' },
  { username: 'leaver', firstname: 'Left', lastname: 'Us', email: 'leaver@example.org', enabled: false },
];

/** The one step an admin takes: a realm-management role for the service account of fedctl's client (again: no change). */
export async function grantKeycloakRole(server: RealServer, role: string): Promise<void> {
  const keycloak = server.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  const realm = keycloak.realm;
  const [client] = await keycloak.admin<{ id: string }[]>('GET', `/${realm}/clients?clientId=${encodeURIComponent(server.account.FEDCTL_CLIENT_ID ?? '')}`);
  const serviceAccount = await keycloak.admin<{ id: string }>('GET', `/${realm}/clients/${client?.id}/service-account-user`);
  const [management] = await keycloak.admin<{ id: string }[]>('GET', `/${realm}/clients?clientId=realm-management`);
  const granted = await keycloak.admin<unknown>('GET', `/${realm}/clients/${management?.id}/roles/${role}`);
  await keycloak.admin('POST', `/${realm}/users/${serviceAccount.id}/role-mappings/clients/${management?.id}`, [granted]);
}

/** The roles fedctl's account needs to keep users in Keycloak, as the README's one step grants them. */
export async function grantUserRoles(server: RealServer): Promise<void> {
  await grantKeycloakRole(server, 'view-users');
  await grantKeycloakRole(server, 'manage-users');
}

/**
 * vantage6 5's users whole, on a running HQ and its Keycloak: names, e-mail
 * and enabled kept in Keycloak through fedctl's account once an admin grants
 * it realm-management view-users and manage-users (and refused, before
 * anything is changed, with the missing role named, until then); drift made
 * in Keycloak planned exactly and reverted; a disabled user kept by HQ but
 * unable to log in, and counted as able to do nothing; export then plan no
 * changes; a stop between HQ's call and Keycloak's converging.
 */
export async function keycloakUsersWhole(server: RealServer, dir: string): Promise<void> {
  const keycloak = server.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  const realm = keycloak.realm;
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'federation.yaml');
  const fedctl = (args: string[]): Promise<CliResult> => runCli([...args, '--server', server.api], { cwd: dir, env: server.account });
  const planJson = async (file = config): Promise<Plan> => {
    const planned = await fedctl(['plan', file, '--json']);
    assert.equal(planned.code, 0, planned.stderr);
    return JSON.parse(planned.stdout) as Plan;
  };
  const write = (people: readonly Record<string, unknown>[]): void => writeFileSync(config, `# people of the federation, kept whole\nvantage6: "5.0"\n${dump({
    organizations: [{ name: 'Keycloak & Co' }],
    users: people.map((person) => ({ ...person, organization: 'Keycloak & Co', password: 'generate', roles: ['Researcher'] })),
  }, { lineWidth: -1 })}`);
  const account = async (username: string): Promise<KeycloakUser> => {
    const [found] = await keycloak.admin<KeycloakUser[]>('GET', `/${realm}/users?exact=true&username=${encodeURIComponent(username)}`);
    assert.ok(found, `Keycloak has ${username}`);
    return found;
  };
  /** A change made in Keycloak's console: the whole representation sent back with some fields changed. */
  const drift = async (username: string, fields: Partial<KeycloakUser>): Promise<void> => {
    const { id } = await account(username);
    const whole = await keycloak.admin<Record<string, unknown>>('GET', `/${realm}/users/${id}`);
    await keycloak.admin('PUT', `/${realm}/users/${id}`, { ...whole, ...fields });
  };
  const grant = (role: string): Promise<void> => grantKeycloakRole(server, role);
  const secret = server.account.FEDCTL_CLIENT_SECRET ?? '';

  write(PEOPLE);
  // Without the roles: one line naming the missing one, before anything is read of the users or changed.
  const unread = await fedctl(['plan', config, '--no-color']);
  assert.equal(unread.code, 1);
  assert.match(unread.stderr, /fedctl's account lacks the Keycloak role realm-management view-users/);
  assert.match(unread.stderr, /Service account roles/);
  await grant('view-users');
  const first = await planJson();
  assert.deepEqual(first.changes.map((c) => `${c.action} ${c.kind} ${c.address}`), [
    'create organization Keycloak & Co', ...PEOPLE.map((p) => `create user ${String(p.username)}`).sort(),
  ]);
  const unwritten = await fedctl(['apply', config, '--auto-approve', '--no-color']);
  assert.equal(unwritten.code, 1);
  assert.match(unwritten.stderr, /lacks the Keycloak role realm-management manage-users.*nothing was changed/);
  assert.equal((await planJson()).changes.length, 1 + PEOPLE.length, 'nothing was changed');
  await grant('manage-users');
  const applied = await fedctl(['apply', config, '--auto-approve', '--no-color']);
  assert.equal(applied.code, 0, applied.stderr);
  for (const text of [unread.stderr, unwritten.stderr, applied.stdout, applied.stderr]) assert.ok(!text.includes(secret), 'no secret in any output');

  for (const person of PEOPLE) {
    const kept = await account(String(person.username));
    assert.deepEqual([kept.firstName, kept.lastName, kept.email, kept.enabled], [person.firstname, person.lastname, person.email, person.enabled !== false]);
  }
  // What a new user must do at the first login: added to what HQ asks (a new password).
  const newcomer = await account('li.wei');
  assert.ok(['VERIFY_EMAIL', 'CONFIGURE_TOTP'].every((action) => newcomer.requiredActions?.includes(action)), JSON.stringify(newcomer.requiredActions));
  assert.equal((await fedctl(['plan', config, '--detailed-exitcode'])).code, 0, 'apply then plan: no changes');

  // The user who left: HQ keeps them, Keycloak does not let them log in; the others only lack their first login.
  const root = await server.login.admin();
  assert.ok(((await root.list<{ username: string }>('/user')) ?? []).some((u) => u.username === 'leaver'));
  const passwords = plaintextSecrets(path.join(dir, 'fedctl-secrets.yaml')).users;
  const login = async (username: string): Promise<string> => {
    const answer = await keycloakToken(keycloak.url, realm, { grant_type: 'password', client_id: keycloak.passwordClient, username, password: passwords[username]?.password ?? '' });
    return 'access_token' in answer ? 'logged in' : answer.error_description ?? answer.error;
  };
  assert.match(await login('leaver'), /disabled/i);
  assert.doesNotMatch(await login('li.wei'), /disabled|invalid/i);
  const leaverAccess = await runCli(['access', config, '--user', 'leaver', '--json'], { cwd: dir });
  assert.deepEqual((JSON.parse(leaverAccess.stdout) as { users: { permissions: unknown[] }[] }).users[0]?.permissions, []);

  // Drift made in Keycloak's console: planned as exactly those fields, and reverted.
  await drift('zoe.obrien', { lastName: 'Changed in the console' });
  await drift('leaver', { enabled: true });
  const drifted = await planJson();
  assert.deepEqual(drifted.changes.map((c) => [c.address, c.action === 'update' ? c.fields : null]), [
    ['leaver', [{ field: 'enabled', before: true, after: false }]],
    ['zoe.obrien', [{ field: 'lastname', before: 'Changed in the console', after: "O'Brien-Ñúñez" }]],
  ]);
  assert.deepEqual(drifted.access?.groups.map((g) => [g.users, g.causes, g.gains.length, g.losses.length > 0]), [[['leaver'], ['they are disabled'], 0, true]]);
  const shown = await fedctl(['plan', config, '--no-color']);
  assert.match(shown.stdout, /lastname: "Changed in the console" -> "O'Brien-Ñúñez"/);
  assert.match(shown.stdout, /enabled: true -> false/);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  assert.equal((await account('zoe.obrien')).lastName, "O'Brien-Ñúñez");
  assert.equal((await account('leaver')).enabled, false);

  // Names a config leaves out are the user's own: mohammed's, filled in by him, are not planned away.
  write(PEOPLE.map((person) => (person.username === 'mohammed' ? { username: person.username } : person)));
  await drift('mohammed', { firstName: 'Mo' });
  assert.deepEqual((await planJson()).changes, []);
  await drift('mohammed', { firstName: 'محمد' });
  write(PEOPLE);

  // HQ made the user, and the apply stopped before Keycloak's call: the next plan has only Keycloak's part, and converges.
  const [organization] = ((await root.list<{ id: number; name: string }>('/organization')) ?? []).filter((o) => o.name === 'Keycloak & Co');
  await root.request('POST', '/user', { username: 'halfway', password: 'Half-way-password-1!', organization_id: organization?.id, roles: [] });
  write([...PEOPLE, { username: 'halfway', firstname: 'Half', lastname: 'Way', email: 'half+way@example.org' }]);
  const rest = await planJson();
  assert.deepEqual(rest.changes.map((c) => [c.action, c.address, c.action === 'update' ? c.fields.map((f) => f.field) : null]), [
    ['update', 'halfway', ['firstname', 'lastname', 'email', 'roles']],
  ]);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  assert.deepEqual([(await account('halfway')).firstName, (await account('halfway')).email], ['Half', 'half+way@example.org']);
  assert.equal((await fedctl(['plan', config, '--detailed-exitcode'])).code, 0);

  // Export adopts what Keycloak keeps: the exported config plans no changes.
  const exportedFile = path.join(dir, 'exported.yaml');
  const exported = await fedctl(['export', '-o', exportedFile]);
  assert.equal(exported.code, 0, exported.stderr);
  const adopted = load(readFileSync(exportedFile, 'utf8')) as { users: Record<string, unknown>[] };
  assert.deepEqual(adopted.users.find((u) => u.username === 'leaver'), {
    username: 'leaver', organization: 'Keycloak & Co', firstname: 'Left', lastname: 'Us', email: 'leaver@example.org', enabled: false, roles: ['Researcher'],
  });
  assert.equal(adopted.users.find((u) => u.username === 'li.wei')?.email, 'li.wei+ops@例え.テスト');
  const exportedPlan = await planJson(exportedFile);
  assert.deepEqual(exportedPlan.changes, []);
}
