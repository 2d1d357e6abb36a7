import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { dump, load } from 'js-yaml';
import type { Plan } from '../../src/plan/plan.js';
import { killFedctlWhen, runCli, type CliResult } from '../helpers/run-cli.js';
import { signInThrough, type SignInResult } from './browser-sign-in.js';
import { grantKeycloakRole, grantUserRoles } from './keycloak-users.js';
import type { RealServer } from './real-server.js';
import { call } from './server-api.js';

/** The people of the hospital's own Keycloak realm (its OpenID Connect provider) and of the university's (its SAML provider). */
const HOSPITAL_PEOPLE = ['alice', 'carol', 'mallory', 'eve'] as const;
const UNIVERSITY_PEOPLE = ['dana'] as const;
const PASSWORD = 'Provider-password-1!';

interface Account { id: string; username: string; email?: string }

/** A realm of the same Keycloak acting as an institution's identity provider, with its people and its client for vantage6. */
async function institutionRealm(server: RealServer, realm: string, people: readonly string[], client: Record<string, unknown>, email: (person: string) => string): Promise<void> {
  const keycloak = server.keycloak as NonNullable<RealServer['keycloak']>;
  await keycloak.admin('POST', '', {
    realm, enabled: true, clients: [client],
    users: people.map((person) => ({
      username: person, enabled: true, email: email(person), emailVerified: true, firstName: person, lastName: `of ${realm}`,
      credentials: [{ type: 'password', value: PASSWORD, temporary: false }],
    })),
  });
}

/**
 * The hospital's identity team's view of fedctl, on a running HQ and its
 * Keycloak: an OpenID Connect provider (another realm, found through its
 * discovery document) and a SAML provider (a third realm, through its
 * metadata) kept as code; people signing in as a browser does, through the
 * provider's button and its own login form, landing in the config's user
 * (HQ's /user/me says so); nobody else getting in, not even with another
 * user's e-mail; disabling and relinking taking effect; roles refused
 * before anything changes until granted; drift reverted; a secret rotated;
 * export then plan empty; an apply killed half-way converging; pruning.
 */
export async function keycloakIdentityProviders(server: RealServer, dir: string): Promise<void> {
  const keycloak = server.keycloak;
  assert.ok(keycloak, 'HQ runs with its Keycloak');
  const realm = keycloak.realm;
  mkdirSync(dir, { recursive: true });
  const broker = (alias: string): string => `${keycloak.url}/realms/${realm}/broker/${alias}/endpoint`;
  let hospitalSecret = 'hospital-client-secret-Ω-1';
  const env = (): NodeJS.ProcessEnv => ({ ...server.account, HOSPITAL_SECRET: hospitalSecret });
  const outputs: string[] = [];
  const fedctl = async (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
    const result = await runCli([...args, '--server', server.api, '--no-color'], { cwd: dir, env: { ...env(), ...extra } });
    outputs.push(result.stdout, result.stderr);
    return result;
  };
  const planJson = async (file: string, extra: NodeJS.ProcessEnv = {}): Promise<Plan> => {
    const planned = await fedctl(['plan', file, '--json'], extra);
    assert.equal(planned.code, 0, `${planned.stderr}${JSON.stringify((JSON.parse(planned.stdout || '{}') as Partial<Plan>).blocked ?? null)}`);
    return JSON.parse(planned.stdout) as Plan;
  };
  const summary = (plan: Plan): string[] => plan.changes.map((c) => `${c.action} ${c.kind} ${c.address}${c.action === 'update' ? ` ${c.fields.map((f) => f.field).join(',')}` : ''}`);

  // The institutions: a hospital with its own Keycloak realm (OpenID Connect) and a university's SAML provider.
  await institutionRealm(server, 'hospital', HOSPITAL_PEOPLE, {
    clientId: 'vantage6-hq', enabled: true, publicClient: false, secret: hospitalSecret, standardFlowEnabled: true, redirectUris: [`${keycloak.url}/realms/${realm}/broker/*`],
  }, (person) => (person === 'eve' ? 'bob@example.org' : `${person}@hospital.example`));
  await institutionRealm(server, 'university', UNIVERSITY_PEOPLE, {
    clientId: `${keycloak.url}/realms/${realm}`, protocol: 'saml', enabled: true, redirectUris: [`${broker('university')}*`],
    attributes: {
      saml_force_name_id_format: 'true', saml_name_id_format: 'username', 'saml.client.signature': 'false', 'saml.server.signature': 'true',
      'saml.authnstatement': 'true', saml_assertion_consumer_url_post: broker('university'),
    },
  }, (person) => `${person}@university.example`);
  const [alice, carol, mallory] = await Promise.all(['alice', 'carol', 'mallory'].map(async (person) => {
    const [found] = await keycloak.admin<Account[]>('GET', `/hospital/users?exact=true&username=${person}`);
    assert.ok(found);
    return found;
  }));
  assert.ok(alice && carol && mallory);

  const config = path.join(dir, 'federation.yaml');
  const hospital = {
    alias: 'hospital', type: 'oidc', display_name: 'Ziekenhuis & Co 🏥', discovery: `${keycloak.url}/realms/hospital/.well-known/openid-configuration`,
    client_id: 'vantage6-hq', client_secret: '${HOSPITAL_SECRET}', organizations: ['Ziekenhuis & Co'], required: true, fills: ['firstname', 'lastname', 'email'],
  };
  const university = { alias: 'university', type: 'saml', display_name: 'جامعة / Universiteit', metadata: `${keycloak.url}/realms/university/protocol/saml/descriptor`, organizations: ['Universiteit'] };
  // The hospital's provider fills in its people's names and e-mail; the university's people have theirs in the config.
  const person = (username: string, organization: string, more: Record<string, unknown> = {}): Record<string, unknown> => ({
    username, organization, ...(organization === 'Universiteit' ? { firstname: username, lastname: 'Ñúñez-O\'Brien', email: `${username}@uni.example.org` } : {}),
    roles: ['Researcher'], ...more,
  });
  const write = (file: string, providers: readonly Record<string, unknown>[], users: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): void =>
    writeFileSync(file, `# who signs in where\nvantage6: "5.0"\n${dump({
      organizations: [{ name: 'Ziekenhuis & Co' }, { name: 'Universiteit' }], identity_providers: providers, users, ...extra,
    }, { lineWidth: -1 })}`);
  const [eve] = await keycloak.admin<Account[]>('GET', '/hospital/users?exact=true&username=eve');
  assert.ok(eve);
  const users = {
    alice: person('alice', 'Ziekenhuis & Co', { sign_in: { provider: 'hospital', subject: alice.id } }),
    evan: person('evan', 'Ziekenhuis & Co', { sign_in: { provider: 'hospital', subject: eve.id } }),
    carol: person('carol', 'Ziekenhuis & Co', { sign_in: { provider: 'hospital', subject: carol.id } }),
    bob: person('bob', 'Universiteit', { email: 'bob@example.org', password: 'generate' }),
    dana: person('dana', 'Universiteit', { sign_in: { provider: 'university', subject: 'dana' } }),
  };
  write(config, [hospital, university], Object.values(users));

  // A user of the hospital's organization without a sign-in breaks required: true, at its line.
  const lacking = path.join(dir, 'lacking.yaml');
  write(lacking, [hospital], [person('zed', 'Ziekenhuis & Co', { password: 'generate' })]);
  const refused = await runCli(['validate', lacking, '--no-color'], { cwd: dir, env: env() });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /lacking\.yaml:\d+:\d+.*sign in through identity provider "hospital" \(required: true\)/);

  // Least privilege: each role the providers need is named, one line, before anything is read or changed.
  await grantUserRoles(server);
  const noRole = await fedctl(['plan', config]);
  assert.equal(noRole.code, 1);
  assert.match(noRole.stderr, /lacks the Keycloak role realm-management view-identity-providers, which reading identity providers needs; nothing was changed/);
  await grantKeycloakRole(server, 'view-identity-providers');
  assert.match((await fedctl(['plan', config])).stderr, /lacks the Keycloak role realm-management view-realm/);
  await grantKeycloakRole(server, 'view-realm');
  const noFlow = await fedctl(['plan', config]);
  assert.match(noFlow.stderr, /has no authentication flow fedctl-deny-unlinked/);
  // The realm administrator's one-time step: the first-login flow that denies.
  const flows = `/${realm}/authentication/flows`;
  await keycloak.admin('POST', flows, { alias: 'fedctl-deny-unlinked', providerId: 'basic-flow', topLevel: true, builtIn: false, description: 'identity providers: nobody unlinked gets in' });
  await keycloak.admin('POST', `${flows}/fedctl-deny-unlinked/executions/execution`, { provider: 'deny-access-authenticator' });
  const [deny] = await keycloak.admin<Record<string, unknown>[]>('GET', `${flows}/fedctl-deny-unlinked/executions`);
  await keycloak.admin('PUT', `${flows}/fedctl-deny-unlinked/executions`, { ...deny, requirement: 'REQUIRED' });

  const first = await planJson(config);
  assert.deepEqual(summary(first), [
    'create organization Universiteit', 'create organization Ziekenhuis & Co',
    'create user alice', 'create user bob', 'create user carol', 'create user dana', 'create user evan',
    'create identity_provider hospital', 'create identity_provider university',
  ]);
  const shown = await fedctl(['plan', config]);
  assert.match(shown.stdout, /\+ identity_provider "hospital"\n\s+type:\s+"oidc"\n\s+display_name:\s+"Ziekenhuis & Co 🏥"/);
  assert.match(shown.stdout, /client_secret:\s+"\$\{HOSPITAL_SECRET\}" \(sensitive, read from the environment\)/);
  assert.match(shown.stdout, /sign_in:\s+"hospital: [0-9a-f-]+"\n\s+password:\s+none \(signs in through the identity provider\)/);
  const unwritten = await fedctl(['apply', config, '--auto-approve']);
  assert.equal(unwritten.code, 1);
  assert.match(unwritten.stderr, /lacks the Keycloak role realm-management manage-identity-providers.*nothing was changed/);
  assert.equal((await planJson(config)).changes.length, first.changes.length, 'nothing was changed');
  await grantKeycloakRole(server, 'manage-identity-providers');
  const applied = await fedctl(['apply', config, '--auto-approve']);
  assert.equal(applied.code, 0, applied.stderr);
  assert.deepEqual((await planJson(config)).changes, [], 'apply then plan: no changes');

  // Signing in as a browser does: the provider's button, its own login form, back; HQ knows them as the config's user.
  const me = async (result: SignInResult): Promise<string> => {
    if (!('token' in result)) return `refused: ${result.refusal}`;
    const answer = await call(server.api, 'GET', '/user/me', result.token);
    return answer.status === 200 ? (JSON.parse(answer.text) as { username: string }).username : `HQ answered ${answer.status}`;
  };
  const signIn = (alias: string, username: string): Promise<string> => signInThrough(keycloak, alias, username, PASSWORD).then(me);
  assert.equal(await signIn('hospital', 'alice'), 'alice');
  assert.equal(await signIn('university', 'dana'), 'dana');
  // The hospital filled in alice's names and e-mail at her sign-in: the provider's, not planned away.
  const [filled] = await keycloak.admin<(Account & { firstName?: string; lastName?: string })[]>('GET', `/${realm}/users?exact=true&username=alice`);
  assert.deepEqual([filled?.firstName, filled?.lastName, filled?.email], ['alice', 'of hospital', 'alice@hospital.example']);
  assert.deepEqual((await planJson(config)).changes, []);
  // Nobody else: the hospital's mallory is unknown to the config; eve asserts bob's e-mail. Neither gets an account or reaches one.
  const known = async (): Promise<string[]> => (await keycloak.admin<Account[]>('GET', `/${realm}/users?max=1000`)).map((u) => u.username).sort();
  const before = await known();
  assert.match(await signIn('hospital', 'mallory'), /^refused: .*(Access denied|denied)/i);
  assert.deepEqual(await known(), before, 'no account made in vantage6\'s realm');
  // eve, linked to evan, has bob's e-mail at the hospital, which fills it in: she is evan (or refused), never bob, and bob keeps his address.
  assert.match(await signIn('hospital', 'eve'), /^(evan|refused: .*)$/);
  const [bob] = await keycloak.admin<Account[]>('GET', `/${realm}/users?exact=true&username=bob`);
  assert.equal(bob?.email, 'bob@example.org');
  assert.deepEqual(await keycloak.admin<unknown[]>('GET', `/${realm}/users/${bob?.id}/federated-identity`), [], 'bob\'s account is nobody else\'s');
  assert.deepEqual((await keycloak.admin<Account[]>('GET', `/${realm}/users?email=bob@example.org&exact=true`)).map((u) => u.username), ['bob']);
  // A user who signs in through a provider has no password of vantage6's.
  const [aliceHere] = await keycloak.admin<Account[]>('GET', `/${realm}/users?exact=true&username=alice`);
  assert.deepEqual((await keycloak.admin<{ type: string }[]>('GET', `/${realm}/users/${aliceHere?.id}/credentials`)).filter((c) => c.type === 'password'), []);
  // As the server and Keycloak say it (no config): each user's sign-in read there.
  const access = await runCli(['access', '--user', 'alice', '--no-color', '--server', server.api], { cwd: dir, env: env() });
  assert.match(access.stdout, /Signs in: through identity provider "hospital" as "[0-9a-f-]+", with no vantage6 password/);
  const summaryOfAccess = await runCli(['access', '--no-color', '--server', server.api], { cwd: dir, env: env() });
  assert.match(summaryOfAccess.stdout, /SIGNS IN THROUGH/);
  assert.match(summaryOfAccess.stdout, /\n\s+alice\s+Ziekenhuis & Co\s+\d+\s+\d+\s+hospital\s/);
  assert.match(summaryOfAccess.stdout, /\n\s+bob\s+Universiteit\s+\d+\s+\d+\s+\(password\)\s/);

  // Disabled in the config: carol cannot sign in through the provider either.
  // Through a saved plan, as CI applies the reviewed one: apply reads Keycloak's providers as the plan did.
  write(config, [hospital, university], Object.values({ ...users, carol: { ...users.carol, enabled: false } }));
  const saved = path.join(dir, 'disable-carol.json');
  assert.equal((await fedctl(['plan', config, '-o', saved])).code, 0);
  const appliedSaved = await fedctl(['apply', saved, '--auto-approve']);
  assert.equal(appliedSaved.code, 0, appliedSaved.stderr);
  assert.match(await signIn('hospital', 'carol'), /^refused: .*disabled/i);
  // Relinked: alice's account is now mallory's identity (changed), dana signs in with a password (unlinked).
  const relinked = { ...users, carol: { ...users.carol, enabled: false }, alice: { ...users.alice, sign_in: { provider: 'hospital', subject: mallory.id } },
    dana: person('dana', 'Universiteit', { password: 'generate' }) };
  write(config, [hospital, university], Object.values(relinked));
  const relinking = await planJson(config);
  assert.deepEqual(relinking.changes.map((c) => (c.action === 'update' ? [c.address, c.fields] : c.address)), [
    ['alice', [{ field: 'sign_in', before: `hospital: ${alice.id}`, after: `hospital: ${mallory.id}` }]],
    ['dana', [{ field: 'sign_in', before: 'university: dana', after: null }]],
  ]);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  assert.match(await signIn('hospital', 'alice'), /^refused/);
  assert.equal(await signIn('hospital', 'mallory'), 'alice');
  assert.match(await signIn('university', 'dana'), /^refused/);
  assert.deepEqual((await planJson(config)).changes, []);

  // Drift made in Keycloak's console: the provider trusts e-mail and makes accounts at a first login, and hides its button.
  const hospitalNow = await keycloak.admin<Record<string, unknown>>('GET', `/${realm}/identity-provider/instances/hospital`);
  await keycloak.admin('PUT', `/${realm}/identity-provider/instances/hospital`, { ...hospitalNow, trustEmail: true, firstBrokerLoginFlowAlias: 'first broker login', hideOnLogin: true });
  const drifted = (await planJson(config)).changes.find((c) => c.address === 'hospital');
  assert.ok(drifted?.action === 'update');
  assert.deepEqual(drifted.fields, [
    { field: 'onLoginPage', before: false, after: true },
    { field: 'drift', added: [], removed: ['firstBrokerLoginFlowAlias="first broker login" (should be "fedctl-deny-unlinked")', 'trustEmail="true" (should be "false")'] },
  ]);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  assert.deepEqual((await planJson(config)).changes, []);

  // The client secret rotated at the hospital and in the environment: planned without showing it, written, and signing in works with it.
  const [client] = await keycloak.admin<{ id: string }[]>('GET', '/hospital/clients?clientId=vantage6-hq');
  hospitalSecret = (await keycloak.admin<{ value: string }>('POST', `/hospital/clients/${client?.id}/client-secret`)).value;
  const rotated = (await planJson(config)).changes;
  assert.deepEqual(rotated.map((c) => (c.action === 'update' ? c.fields : c.action)), [[{ field: 'clientSecret', before: '(another secret)', after: '${HOSPITAL_SECRET}' }]]);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  assert.equal(await signIn('hospital', 'mallory'), 'alice');

  // Export adopts them, the secret as a reference to set: then plan, no changes.
  const exportedFile = path.join(dir, 'exported.yaml');
  const exported = await fedctl(['export', '-o', exportedFile]);
  assert.equal(exported.code, 0, exported.stderr);
  const adopted = load(readFileSync(exportedFile, 'utf8')) as { identity_providers: Record<string, unknown>[]; users: Record<string, unknown>[] };
  assert.deepEqual(adopted.identity_providers.map((p) => [p.alias, p.client_secret ?? null, p.organizations]), [
    ['hospital', '${FEDCTL_IDP_HOSPITAL_SECRET}', ['Ziekenhuis & Co']], ['university', null, ['Universiteit']],
  ]);
  assert.deepEqual(adopted.users.find((u) => u.username === 'alice')?.sign_in, { provider: 'hospital', subject: mallory.id });
  assert.deepEqual((await planJson(exportedFile, { FEDCTL_IDP_HOSPITAL_SECRET: hospitalSecret })).changes, []);

  // A new provider and its user, the apply killed once the provider is made: the next apply finishes, then no changes.
  const clinic = { ...hospital, alias: 'clinic', display_name: 'Kliniek', organizations: ['Ziekenhuis & Co'] };
  write(config, [hospital, clinic, university], [...Object.values(relinked), person('carla', 'Ziekenhuis & Co', { sign_in: { provider: 'clinic', subject: carol.id } })]);
  const provider = async (alias: string): Promise<boolean> => (await keycloak.admin<{ alias: string }[]>('GET', `/${realm}/identity-provider/instances`)).some((p) => p.alias === alias);
  const killed = await killFedctlWhen(['apply', config, '--auto-approve', '--server', server.api], { cwd: dir, env: env() }, () => provider('clinic'));
  assert.ok(killed || await provider('clinic'));
  const rest = await planJson(config);
  assert.ok(!rest.changes.some((c) => c.kind === 'identity_provider' && c.action === 'create'), 'the provider is not made twice');
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  assert.deepEqual((await planJson(config)).changes, []);
  assert.equal(await signIn('clinic', 'carol'), 'carla');

  // Generated aliases and display names of every script (fixed seed), filling in what they may: Keycloak keeps them as the plan compares them.
  const everyone = [...Object.values(relinked), person('carla', 'Ziekenhuis & Co', { sign_in: { provider: 'clinic', subject: carol.id } })];
  const seen = new Set(['hospital', 'clinic', 'university']);
  const generated = fc.sample(fc.record({
    alias: fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9._-]{0,24}$/),
    display: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).map((t) => t.replace(/[\p{Cc}\u2028\u2029]/gu, '').trim()),
    fills: fc.subarray(['firstname', 'lastname', 'email']),
  }), { seed: 39, numRuns: 8 }).filter((g) => g.display !== '' && !seen.has(g.alias.toLowerCase()) && seen.add(g.alias.toLowerCase()))
    .map((g) => ({ ...hospital, alias: g.alias, display_name: g.display, fills: g.fills, required: false, on_login_page: g.fills.length % 2 === 0 }));
  write(config, [hospital, clinic, university, ...generated], everyone);
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 0);
  assert.deepEqual((await planJson(config)).changes, [], `generated providers round-trip: ${JSON.stringify(generated.map((g) => [g.alias, g.display_name]))}`);

  // Pruned: the providers taken out of the config go, only with --allow-destroy.
  write(config, [hospital, clinic], everyone, { prune: { identity_providers: true } });
  const pruning = await fedctl(['plan', config, '--json']);
  assert.equal(pruning.code, 1, 'a plan that deletes fails without --allow-destroy');
  assert.deepEqual(summary(JSON.parse(pruning.stdout) as Plan).sort(), [...generated.map((g) => g.alias), 'university'].map((a) => `delete identity_provider ${a}`).sort());
  assert.equal((await fedctl(['apply', config, '--auto-approve'])).code, 1, 'deletes need --allow-destroy');
  assert.equal((await fedctl(['apply', config, '--auto-approve', '--allow-destroy'])).code, 0);
  assert.equal(await provider('university'), false);

  for (const output of outputs) {
    assert.ok(!output.includes(hospitalSecret) && !output.includes('hospital-client-secret-Ω-1'), 'no client secret in any output');
  }
}
