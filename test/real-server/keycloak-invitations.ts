import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dump } from 'js-yaml';
import type { Plan } from '../../src/plan/plan.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { plaintextSecrets } from './conformance.js';
import { acceptInvitation, invitationLink } from './keycloak.js';
import { grantUserRoles } from './keycloak-users.js';
import { envelopeAddress } from './mailbox.js';
import { isSession } from './server-api.js';
import type { RealServer } from './real-server.js';

/** Invited people: names and addresses of several scripts, plus signs and internationalized domains. */
const INVITED: readonly Record<string, unknown>[] = [
  { username: 'nour.haddad', firstname: 'نور', lastname: 'Haddad ✉️', email: 'nour+invite@例え.テスト' },
  { username: 'chen.jing', firstname: '晶', lastname: '陈', email: 'chen.jing+v6@bücher.example' },
];

/**
 * Invitations instead of passwords on vantage6 5: fedctl makes the user
 * through HQ with a password nobody knows, and Keycloak e-mails them a link
 * (received by a real mail server); the user follows it as in a browser,
 * sets their own password and logs in to HQ. No password of theirs is
 * written anywhere; an apply stopped between HQ's call and the invitation
 * plans the invitation alone and sends it, once; --reset-password sends a
 * new one, the forgotten password removed. A guardrail requiring
 * two-factor authentication refuses a plan that gives its rules to a user
 * Keycloak says has none, until the config requires it of them.
 */
export async function keycloakInvitations(server: RealServer, dir: string): Promise<void> {
  const keycloak = server.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  const { mailbox } = keycloak;
  await grantUserRoles(server);
  mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'federation.yaml');
  const fedctl = (args: string[]): Promise<CliResult> => runCli([...args, '--server', server.api], { cwd: dir, env: server.account });
  const write = (people: readonly Record<string, unknown>[], policy?: unknown): void => writeFileSync(config, `# invited, not given a password\nvantage6: "5.0"\n${dump({
    organizations: [{ name: 'Invitations & Co' }],
    users: people.map((person) => ({ organization: 'Invitations & Co', password: 'invite', roles: ['Researcher'], ...person })),
    ...(policy === undefined ? {} : { policy }),
  }, { lineWidth: -1 })}`);
  const planJson = async (): Promise<Plan> => {
    const planned = await fedctl(['plan', config, '--json']);
    assert.equal(planned.code, 0, planned.stderr);
    return JSON.parse(planned.stdout) as Plan;
  };

  write(INVITED);
  const shown = await fedctl(['plan', config, '--no-color']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /password: +\(set by the user: Keycloak e-mails them an invitation\)/);
  const applied = await fedctl(['apply', config, '--auto-approve', '--no-color']);
  assert.equal(applied.code, 0, applied.stderr);
  const secrets = path.join(dir, 'fedctl-secrets.yaml');
  assert.deepEqual(existsSync(secrets) ? Object.keys(plaintextSecrets(secrets).users) : [], [], 'no password of an invited user is written');
  assert.equal((await fedctl(['plan', config, '--detailed-exitcode'])).code, 0, 'apply then plan: no changes, while the invitations wait');

  const password = 'Chosen-by-نور-1!';
  const [nour, chen] = INVITED.map((person) => String(person.email));
  const mail = await mailbox.waitFor(nour as string);
  await mailbox.waitFor(chen as string);
  assert.match(mail.text, /Update Password/);
  // Before the user follows it, nobody can log in as them: the password HQ was given is gone.
  assert.ok(!isSession(await server.login.user('nour.haddad', 'anything')));
  await acceptInvitation(invitationLink(mail.text), password);
  const session = await server.login.user('nour.haddad', password);
  assert.ok(isSession(session), `the invited user logs in to HQ with the password they chose: ${isSession(session) ? '' : session.refusal}`);
  const me = await session.request<{ username: string }>('GET', '/user/me');
  assert.equal(me.username, 'nour.haddad');
  assert.equal((await fedctl(['plan', config, '--detailed-exitcode'])).code, 0, 'an accepted invitation plans nothing');

  // A forgotten password: --reset-password removes it and sends a new invitation.
  const reset = await fedctl(['apply', config, '--reset-password', 'nour.haddad', '--auto-approve', '--no-color']);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /invitation: +\(sensitive\) -> \(password removed; a new invitation e-mailed by Keycloak\)/);
  const again = await mailbox.waitFor(nour as string, 1);
  assert.ok(!isSession(await server.login.user('nour.haddad', password)), 'the forgotten password no longer logs in');
  await acceptInvitation(invitationLink(again.text), `${password}-2`);
  assert.ok(isSession(await server.login.user('nour.haddad', `${password}-2`)), 'the new one does');
  assert.equal((await fedctl(['plan', config, '--detailed-exitcode'])).code, 0);

  // HQ made the user, and the apply stopped before the invitation: the next plan sends it, and only it.
  const root = await server.login.admin();
  const [organization] = ((await root.list<{ id: number; name: string }>('/organization')) ?? []).filter((o) => o.name === 'Invitations & Co');
  const [researcher] = (await root.list<{ id: number }>('/role?name=Researcher')) ?? [];
  await root.request('POST', '/user', { username: 'halfway.invited', password: 'Only-HQ-knew-1!', organization_id: organization?.id, roles: [researcher?.id] });
  const halfway = { username: 'halfway.invited', email: 'half+invited@example.org' };
  write([...INVITED, halfway]);
  // The account's e-mail is fedctl's to write first: the invitation goes there.
  const rest = await planJson();
  assert.deepEqual(rest.changes.map((c) => [c.action, c.address, c.action === 'update' ? c.fields : null]), [
    ['update', 'halfway.invited', [{ field: 'email', before: null, after: 'half+invited@example.org' }, { field: 'invitation', secret: 'send' }]],
  ]);
  const owed = await fedctl(['plan', config, '--no-color']);
  assert.match(owed.stdout, /invitation: +not sent \(an apply stopped after making the user\) -> e-mailed by Keycloak/);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  await mailbox.waitFor(halfway.email);
  assert.equal((await fedctl(['plan', config, '--detailed-exitcode'])).code, 0, 'sent once: the next plan has nothing');
  assert.equal(mailbox.messages().filter((m) => m.to.includes(envelopeAddress(halfway.email))).length, 1);
  assert.equal(mailbox.messages().filter((m) => m.to.includes(envelopeAddress(nour as string))).length, 2, 'an invitation, and one on request: no more');

  // A guardrail requiring a second factor of whoever may manage users: Keycloak says nour.haddad has none.
  const policy = { guardrails: [{ name: 'user managers use a second factor', rules: { resource: 'user', operation: 'create' }, require: ['two_factor'] }] };
  const promoted = INVITED.map((person) => (person.username === 'nour.haddad' ? { ...person, roles: ['Researcher', 'Organization Admin'] } : person));
  write([...promoted, halfway], policy);
  const refused = await fedctl(['plan', config, '--no-color']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stdout, /"user managers use a second factor": user "nour.haddad" would hold a rule of user: create \(any scope\) without two-factor authentication/);
  // Required of her: at her next login she configures it, and the plan is taken.
  write([...promoted.map((person) => (person.username === 'nour.haddad' ? { ...person, required_actions: ['configure_totp'] } : person)), halfway], policy);
  const required = await planJson();
  assert.deepEqual(required.violations, undefined);
  const change = required.changes.find((c) => c.address === 'nour.haddad');
  assert.deepEqual(change?.action === 'update' ? change.fields.map((f) => f.field) : null, ['roles', 'required_actions']);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  const [account] = await keycloak.admin<{ requiredActions?: string[] }[]>('GET', `/${keycloak.realm}/users?exact=true&briefRepresentation=false&username=nour.haddad`);
  assert.deepEqual(account?.requiredActions, ['CONFIGURE_TOTP']);
  assert.equal((await fedctl(['plan', config, '--detailed-exitcode'])).code, 0, 'apply then plan: no changes');
}
