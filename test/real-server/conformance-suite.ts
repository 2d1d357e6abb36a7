import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { dump, load } from 'js-yaml';
import { configText, generateFederation } from '../../bench/generate-federation.js';
import { FederationAccess } from '../../src/access/user-access.js';
import { parseRuleKey } from '../../src/catalog/rule-catalog.js';
import { featuresOfRelease, parseVersion } from '../../src/catalog/vantage6-versions.js';
import { loadConfig } from '../../src/config/load-config.js';
import { validateConfig } from '../../src/config/validate-config.js';
import type { Plan } from '../../src/plan/plan.js';
import { copyExamples, exampleFor, snapshot } from '../helpers/fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../helpers/test-databases.js';
import {
  accessModel, apiRuleKey, assertNodesLogIn, assertRolesAndRules, assertUsersLogInAndSee, fedctlSays, initReleaseFor, nodeFileKey,
  plaintextSecrets, serverView, type ConfigFederation,
} from './conformance.js';
import { availableServers } from './conformance-env.js';
import { startRealServer, type RealServer } from './real-server.js';
import { isSession } from './server-api.js';
import type { ConformanceRelease } from './server-environment.js';


/** Cost 4: the server checks whatever cost a hash says, and node login tries every node's hash in turn. */
const FAST = ['--bcrypt-cost', '4'];

/** The example federation with a generated password for every user, without studies where the release has none. */
function exampleWithPasswords(studies: boolean): string {
  const config = load(exampleFor(studies)) as { users: Record<string, unknown>[] };
  for (const user of config.users) user.password = 'generate';
  return dump(config, { lineWidth: -1 });
}

/** What a config asks for, read as fedctl reads it. */
async function federationOf(files: string[]): Promise<ConfigFederation> {
  const { desired, diagnostics } = validateConfig(await loadConfig(files), {});
  assert.ok(desired, JSON.stringify(diagnostics));
  return desired;
}

/** The catalogue tables fedctl reads and the server owns: unchanged by a first start on fedctl's database. */
async function catalogue(db: TestDatabase): Promise<unknown> {
  const all = await snapshot(db);
  return { rule: all.rule, role: all.role, role_rule_association: all.role_rule_association };
}

/**
 * The conformance tests of one release on both engines, all through the
 * server's HTTP API. Each release has a file of its own under
 * test/conformance/, so that the test runner runs two at a time.
 */
export async function conformanceSuite(release: ConformanceRelease): Promise<void> {
  const unavailable = (await availableServers([release])).get(release) ?? false;
  for (const { engine, skip } of ENGINES) {
    describe(`the real vantage6 ${release} server on ${engine}`, { skip: skip || unavailable }, () => {
      const initRelease = initReleaseFor(release);
      // A release without its own reference data starts on the newest carried one before it, and upgrades it in place.
      const upgrades = parseVersion(initRelease) !== parseVersion(release);
      let db: TestDatabase;
      let server: RealServer;
      let before1: unknown;
      const fedctl = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli([...args, '--database', db.url], { cwd: db.dir, env });
      const example = (): string => path.join(db.dir, 'federation.yaml');
      let exampleFederation: ConfigFederation;

      before(async () => {
        db = await createTestDatabase(engine);
        const init = await fedctl(['init', '--vantage6-version', initRelease]);
        assert.equal(init.code, 0, init.stderr);
        before1 = await catalogue(db);
        server = await startRealServer(release, db.url, path.join(db.dir, 'server'));
        writeFileSync(example(), exampleWithPasswords(featuresOfRelease(parseVersion(release) as number).studies));
        exampleFederation = await federationOf([example()]);
      });

      after(async () => {
        await server?.stop();
        await db?.drop();
      });

      it(`its first start on a database made by fedctl init --vantage6-version ${initRelease} changes nothing fedctl manages`, async () => {
        if (!upgrades) assert.deepEqual(await catalogue(db), before1, 'rules, roles and their rules as init made them');
        writeFileSync(path.join(db.dir, 'empty.yaml'), 'version: 1\n');
        const plan = await fedctl(['plan', path.join(db.dir, 'empty.yaml'), '--json']);
        assert.equal(plan.code, 0, plan.stderr);
        const parsed = JSON.parse(plan.stdout) as Plan;
        assert.deepEqual(parsed.changes, []);
        // The server's own root organization and user, left alone.
        assert.deepEqual(parsed.unmanaged, [{ kind: 'organization', address: 'root', serverOwned: true }, { kind: 'user', address: 'root', serverOwned: true }]);
        const [from, to] = parsed.database.vantage6.split(' to ').map((v) => parseVersion(v) as number);
        const minor = parseVersion(release) as number;
        assert.ok(from !== undefined && from <= minor && minor <= (to ?? from), `the plan names ${release}: ${parsed.database.vantage6}`);
      });

      it('every user logs in, holds the config\'s roles and rules, and lists what their scopes allow; every node logs in', async () => {
        const applied = await fedctl(['apply', example(), '--auto-approve', ...FAST]);
        assert.equal(applied.code, 0, applied.stderr);
        const secrets = plaintextSecrets(path.join(db.dir, 'fedctl-secrets.yaml'));
        const view = await serverView(server.api);
        const access = new FederationAccess(await accessModel(view, [exampleFederation]));
        await assertRolesAndRules(view, exampleFederation, access);
        const passwords = Object.fromEntries(Object.entries(secrets.users).map(([user, entry]) => [user, entry.password]));
        const fromDatabase = await fedctlSays(fedctl, Object.keys(passwords));
        assert.equal(await assertUsersLogInAndSee(view, passwords, fromDatabase), 5);
        // Offline, on the config with the release's built-in roles, fedctl says the same, but for the server's own
        // root organization and user, which the config does not describe.
        const withoutRoot = new Map([...fromDatabase].map(([user, lists]) => [user, {
          ...lists,
          organization: lists.organization?.filter((name) => name !== 'root') ?? null,
          user: lists.user?.filter((name) => name !== 'root') ?? null,
        }]));
        assert.deepEqual(await fedctlSays(fedctl, Object.keys(passwords), [example(), '--vantage6-version', release]), withoutRoot);
        assert.equal(Object.keys(secrets.nodes).length, 5);
        await assertNodesLogIn(view, secrets.nodes);
      });

      it('nodes log in with the keys of the encrypted records and node files; a rotated-out key no longer does', async () => {
        const { encrypted, identity } = copyExamples(db.dir);
        const old = plaintextSecrets(path.join(db.dir, 'fedctl-secrets.yaml')).nodes;
        const rotate = Object.keys(old).flatMap((name) => ['--rotate-node-key', name]);
        const applied = await fedctl(['apply', example(), encrypted, '--auto-approve', ...FAST, ...rotate]);
        assert.equal(applied.code, 0, applied.stderr);
        for (const [name, { api_key: key }] of Object.entries(old)) {
          assert.ok(!isSession(await server.login.node(name, key)), `the old key of ${name} no longer logs in`);
        }
        const shown = await runCli(['secrets', 'show', path.join(db.dir, 'fedctl-secrets'), '-i', identity('admin-anna'), '--json'], { cwd: db.dir });
        assert.equal(shown.code, 0, shown.stderr);
        const records = (JSON.parse(shown.stdout) as { nodes: Record<string, { api_key: string; organization: string; collaboration: string }> }).nodes;
        assert.deepEqual(Object.keys(records).sort(), Object.keys(old).sort());
        const view = await serverView(server.api);
        await assertNodesLogIn(view, records);
        const fromFiles = Object.fromEntries(Object.entries(records).map(([name, entry]) => {
          const file = path.join(db.dir, 'fedctl-secrets', 'nodes', entry.organization, `${name}.yaml.age`);
          // IKNL's operator opens IKNL's node files; the admins open all.
          const key = nodeFileKey(identity(entry.organization === 'IKNL' ? 'iknl-operator' : 'admin-bram'), file);
          return [name, { ...entry, api_key: key }];
        }));
        await assertNodesLogIn(view, fromFiles);
      });

      describe('drift made through the API', () => {
        let driftPlan: Plan;

        it('is planned as exactly those changes, the new organization unmanaged, and named as made outside fedctl', async () => {
          const view = await serverView(server.api);
          const { root } = view;
          await root.request('PATCH', `/user/${view.userId('bram.jansen')}`, { firstname: 'Bram (changed in the UI)' });
          const created = await root.request<{ id: number }>('POST', '/organization', { name: 'Drift Hospital' });
          const registry = view.collaborations.find((c) => c.name === 'Rare Tumours Registry');
          assert.ok(registry);
          await root.request('POST', `/collaboration/${registry.id}/organization`, { id: created.id });
          const steward = view.roles.find((r) => r.name === 'Data Steward');
          assert.ok(steward);
          const rules = await root.list<{ id: number; name: string; scope: string; operation: string }>(`/rule?role_id=${steward.id}`) ?? [];
          assert.ok(rules.some((r) => apiRuleKey(r) === 'task:COLLABORATION:VIEW'), 'Data Steward has task: view (collaboration)');
          // The role's rules without one, as the UI sends them (DELETE /role/ID/rule/RULE answers 200 but is not saved before 4.10).
          await root.request('PATCH', `/role/${steward.id}`, { rules: rules.filter((r) => apiRuleKey(r) !== 'task:COLLABORATION:VIEW').map((r) => r.id) });

          const planned = await fedctl(['plan', example(), '--json']);
          assert.equal(planned.code, 0, planned.stderr);
          driftPlan = JSON.parse(planned.stdout) as Plan;
          const changes = driftPlan.changes.map((c) => ({ action: c.action, kind: c.kind, address: c.address, fields: 'fields' in c ? c.fields : null }));
          assert.deepEqual(changes, [
            { action: 'update', kind: 'collaboration', address: 'Rare Tumours Registry', fields: [{ field: 'members', added: [], removed: ['Drift Hospital'] }] },
            { action: 'update', kind: 'role', address: 'Data Steward (IKNL)', fields: [{ field: 'rules', added: ['task:COLLABORATION:VIEW'], removed: [] }] },
            { action: 'update', kind: 'user', address: 'bram.jansen', fields: [{ field: 'firstname', before: 'Bram (changed in the UI)', after: 'Bram' }] },
          ]);
          assert.ok(driftPlan.unmanaged.some((u) => u.kind === 'organization' && u.address === 'Drift Hospital'), 'the new organization is unmanaged');
          assert.equal(driftPlan.history?.changedOutsideFedctl, true);
          const text = await fedctl(['plan', example(), '--no-color']);
          assert.match(text.stdout, /changed outside fedctl since the last apply/);
        });

        it('exported after the server\'s own writes, plans as no changes', async () => {
          const exported = await fedctl(['export', '-o', path.join(db.dir, 'exported.yaml')]);
          assert.equal(exported.code, 0, exported.stderr);
          const planned = await fedctl(['plan', path.join(db.dir, 'exported.yaml'), '--detailed-exitcode']);
          assert.equal(planned.code, 0, `${planned.stdout}${planned.stderr}`);
          assert.match(planned.stdout, /No changes/);
        });

        it('is reverted by apply, and users and nodes work as before', async () => {
          const applied = await fedctl(['apply', example(), '--auto-approve', ...FAST]);
          assert.equal(applied.code, 0, applied.stderr);
          assert.match(applied.stdout, /Apply complete: 0 added, 3 changed, 0 destroyed/);
          const again = await fedctl(['plan', example(), '--detailed-exitcode']);
          assert.equal(again.code, 0, again.stdout);
          const view = await serverView(server.api);
          const access = new FederationAccess(await accessModel(view, [exampleFederation]));
          await assertRolesAndRules(view, exampleFederation, access);
          const secrets = plaintextSecrets(path.join(db.dir, 'fedctl-secrets.yaml'));
          const passwords = Object.fromEntries(Object.entries(secrets.users).map(([user, entry]) => [user, entry.password]));
          assert.equal(await assertUsersLogInAndSee(view, passwords, await fedctlSays(fedctl, Object.keys(passwords))), 5);
        });
      });

      it('the realistic S federation (names of every script): its users with passwords and every node log in', async () => {
        const view = await serverView(server.api);
        const catalogueRules = new Set(((await view.root.list<{ name: string; scope: string; operation: string }>('/rule')) ?? []).map(apiRuleKey));
        const config = generateFederation('S', 42, 'realistic') as {
          users: { password?: string; rules?: { resource: string; scope: string; operation: string }[] }[];
          roles: { rules: { resource: string; scope: string; operation: string }[] }[];
          studies?: unknown[];
        };
        // Only the rules this release has, and studies where it has them.
        const has = (rule: { resource: string; scope: string; operation: string }): boolean =>
          catalogueRules.has(`${rule.resource}:${rule.scope.toUpperCase()}:${rule.operation.toUpperCase()}`);
        for (const role of config.roles) role.rules = role.rules.filter(has);
        config.users.forEach((user, i) => {
          if (user.rules) user.rules = user.rules.filter(has);
          if (i % 10 === 0) user.password = 'generate';
          else delete user.password;
        });
        if (![...catalogueRules].some((key) => parseRuleKey(key).resource === 'study')) delete config.studies;
        const dir = path.join(db.dir, 'realistic');
        mkdirSync(dir, { recursive: true });
        const file = path.join(dir, 'federation.yaml');
        writeFileSync(file, configText(config, 'realistic'));
        const applied = await fedctl(['apply', file, '--auto-approve', ...FAST]);
        assert.equal(applied.code, 0, applied.stderr);
        const again = await fedctl(['plan', file, '--detailed-exitcode']);
        assert.equal(again.code, 0, again.stdout);

        const realistic = await federationOf([file]);
        const after = await serverView(server.api);
        const secrets = plaintextSecrets(path.join(dir, 'fedctl-secrets.yaml'));
        const passwords = Object.fromEntries(Object.entries(secrets.users).map(([user, entry]) => [user, entry.password]));
        assert.equal(Object.keys(passwords).length, 50);
        // What fedctl access says from the database the server uses.
        const fromDatabase = await fedctlSays(fedctl, Object.keys(passwords));
        assert.equal(await assertUsersLogInAndSee(after, passwords, fromDatabase), 50);
        assert.equal(Object.keys(secrets.nodes).length, realistic.nodes.length);
        await assertNodesLogIn(after, secrets.nodes);
      });

      // Last: the node the API makes has a cost-12 hash, which every later node login checks first.
      it('writes omitted fields as the server\'s API does: the same rows, read back alike, planned as no change', async () => {
        const { root } = await serverView(server.api);
        const rule = (await root.list<{ id: number; name: string; scope: string; operation: string }>('/rule'))?.find((r) => apiRuleKey(r) === 'node:GLOBAL:VIEW');
        assert.ok(rule);
        // What a client sends with only what the API requires: empty names, no optional organization or role fields.
        const org = await root.request<{ id: number }>('POST', '/organization', { name: 'API Hospital' });
        await root.request('POST', '/user', { username: 'api-user', firstname: '', lastname: '', password: 'Api-Password-42!', email: 'api@example.org', organization_id: org.id });
        await root.request('POST', '/role', { name: 'API Role', rules: [rule.id], organization_id: org.id });
        const collab = await root.request<{ id: number }>('POST', '/collaboration', { name: 'API Collaboration', organization_ids: [org.id], encrypted: true });
        await root.request('POST', '/node', { collaboration_id: collab.id, organization_id: org.id });
        // The same, twice in a config with nothing optional: the API's rows planned, fedctl's twins created.
        const file = path.join(db.dir, 'twins.yaml');
        writeFileSync(file, `version: 1
organizations: [{ name: API Hospital }, { name: fedctl Hospital }]
roles:
  - { name: API Role, organization: API Hospital, rules: [{ resource: node, scope: global, operation: view }] }
  - { name: fedctl Role, organization: fedctl Hospital, rules: [{ resource: node, scope: global, operation: view }] }
users:
  - { username: api-user, organization: API Hospital, email: api@example.org }
  - { username: fedctl-user, organization: fedctl Hospital, email: fedctl@example.org }
collaborations:
  - { name: API Collaboration, encrypted: true, members: [{ organization: API Hospital }] }
  - { name: fedctl Collaboration, encrypted: true, members: [{ organization: fedctl Hospital }] }
`);
        const planned = await fedctl(['plan', file, '--json']);
        assert.equal(planned.code, 0, planned.stderr);
        const changes = (JSON.parse(planned.stdout) as Plan).changes.map((c) => `${c.action} ${c.kind} ${c.address}`);
        assert.deepEqual(changes.filter((c) => c.includes('API') || c.includes('api-')), [], 'what the API wrote is what the config says');
        const applied = await fedctl(['apply', file, '--auto-approve', ...FAST]);
        assert.equal(applied.code, 0, applied.stderr);
        assert.equal((await fedctl(['plan', file, '--detailed-exitcode'])).code, 0);

        const rows = async (query: string, keep: readonly string[]): Promise<unknown[]> =>
          (await db.sql(query)).map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !keep.includes(key))));
        const pair = async (query: string, names: [string, string], drop: readonly string[]): Promise<void> => {
          const [api, ours] = await Promise.all(names.map((name) => rows(query.replace('$NAME', name.replaceAll("'", "''")), drop)));
          assert.deepEqual(ours, api, `${names[1]} is stored as ${names[0]}: ${query}`);
        };
        await pair(`select * from organization where name = '$NAME'`, ['API Hospital', 'fedctl Hospital'], ['id', 'name']);
        await pair(`select u.*, a.type, a.ip, a.status, a.last_seen from "user" u join authenticatable a on a.id = u.id where username = '$NAME'`,
          ['api-user', 'fedctl-user'], ['id', 'username', 'email', 'password', 'organization_id']);
        await pair(`select * from role where name = '$NAME'`, ['API Role', 'fedctl Role'], ['id', 'name', 'organization_id']);
        await pair(`select n.name, a.type, a.ip, a.status, a.last_seen from node n join authenticatable a on a.id = n.id join collaboration c on c.id = n.collaboration_id where c.name = '$NAME'`,
          ['API Collaboration', 'fedctl Collaboration'], ['name']);
        // The server reads them back alike.
        const orgs = (await root.list<Record<string, unknown>>('/organization')) ?? [];
        const shown = (name: string): unknown => {
          const found = orgs.find((o) => o.name === name);
          assert.ok(found, name);
          return ['domain', 'address1', 'address2', 'zipcode', 'country', 'public_key'].map((key) => [key, found[key]]);
        };
        assert.deepEqual(shown('fedctl Hospital'), shown('API Hospital'));
      });
    });
  }
}
