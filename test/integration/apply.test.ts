import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { parse } from 'yaml';
import { runCli } from '../helpers/run-cli.js';
import { ENGINES, createTestDatabase, withInitializedDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { loadRelease } from '../helpers/vantage6-releases.js';
import { exampleText, snapshot, writeConfig } from '../helpers/fixtures.js';
import { assertPythonBcryptVerifies } from '../helpers/python-bcrypt.js';

const FAST = ['--bcrypt-cost', '4'];

async function apply(db: TestDatabase, config: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runCli(['apply', config, '--database', db.url, '--auto-approve', ...FAST, ...extra], { cwd: db.dir, env });
}

async function plan(db: TestDatabase, config: string, extra: string[] = []) {
  return runCli(['plan', config, '--database', db.url, '--detailed-exitcode', ...extra], { cwd: db.dir });
}

for (const { engine, skip } of ENGINES) {
  describe(`apply on ${engine}`, { skip }, () => {
    it('creates the example federation; a second plan and apply change nothing', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const first = await plan(db, config);
        assert.equal(first.code, 2);
        assert.match(first.stdout, /Plan: 19 to add, 0 to change, 0 to destroy\./);

        const applied = await apply(db, config);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /Apply complete: 19 added, 0 changed, 0 destroyed\./);
        assert.match(applied.stdout, /Wrote 5 node API key\(s\) and 1 generated password\(s\) to /);

        const again = await plan(db, config);
        assert.equal(again.code, 0, again.stdout);
        assert.match(again.stdout, /^No changes\. The database .* matches the config\./);
        const second = await apply(db, config);
        assert.equal(second.code, 0);
        assert.match(second.stdout, /No changes\./);
        assert.doesNotMatch(second.stdout, /Apply complete/);
      });
    });

    it('writes rows as the vantage6 server writes them', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        const auth = await db.sql('select a.type, a.status, n.name from authenticatable a join node n on n.id = a.id');
        assert.equal(auth.length, 5);
        assert.ok(auth.every((row) => row.type === 'node' && row.status === 'offline'));
        const users = await db.sql('select a.type, a.status, u.failed_login_attempts, u.username from authenticatable a join "user" u on u.id = a.id');
        assert.equal(users.length, 5);
        assert.ok(users.every((row) => row.type === 'user' && row.status === null && Number(row.failed_login_attempts) === 0));
        const roles = await db.sql(`select r.name, r.is_default_role, o.name as org from role r left join organization o on o.id = r.organization_id where r.name in ('Data Steward', 'Auditor') order by r.name`);
        assert.deepEqual(roles.map((r) => [r.name, Boolean(r.is_default_role), r.org]), [['Auditor', false, null], ['Data Steward', false, 'IKNL']]);
        const collabs = await db.sql('select name, encrypted from collaboration order by name');
        assert.deepEqual(collabs.map((c) => [c.name, Boolean(c.encrypted)]), [['Colorectal Cancer Survival', true], ['Rare Tumours Registry', false]]);
        // Every node's organization is a member of its collaboration.
        const orphans = await db.sql('select n.name from node n where not exists (select 1 from "Member" m where m.organization_id = n.organization_id and m.collaboration_id = n.collaboration_id)');
        assert.deepEqual(orphans, []);
        const steward = await db.sql(`select count(*) as n from role_rule_association rr join role r on r.id = rr.role_id where r.name = 'Data Steward'`);
        // node view+edit, study's 4 collaboration-scoped rules (all operations), task view, run view.
        assert.equal(Number(steward[0]?.n), 2 + 4 + 1 + 1);
        // Omitted fields as the API stores them: '' for most of an organization's, NULL for address2 (every 4.x release).
        const maastricht = await db.sql(`select domain, address1, address2, zipcode, country, length(_public_key) as key_length from organization where name = 'Maastricht UMC+'`);
        assert.deepEqual(maastricht.map((o) => ({ ...o, key_length: Number(o.key_length) })),
          [{ domain: 'mumc.nl', address1: '', address2: null, zipcode: '', country: 'Netherlands', key_length: 0 }]);
      });
    });

    it('writes omitted fields in the form the API stores, reads either form as none, and exports neither as a change', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, `version: 1
organizations:
  - name: Bare Hospital
  - name: Empty Hospital
    domain: ""
roles:
  - { name: Reader, rules: [{ resource: node, scope: global, operation: view }] }
users:
  - { username: bare-user, organization: Bare Hospital, email: bare@example.org, roles: [Reader] }
  - { username: empty-user, organization: Empty Hospital, email: empty@example.org, firstname: "", lastname: "" }
`);
        assert.equal((await apply(db, config)).code, 0);
        const orgs = await db.sql(`select name, domain, address1, address2, zipcode, country from organization where name like '% Hospital' order by name`);
        assert.deepEqual(orgs, ['Bare Hospital', 'Empty Hospital'].map((name) => ({ name, domain: '', address1: '', address2: null, zipcode: '', country: '' })));
        assert.deepEqual(await db.sql(`select username, firstname, lastname from "user" order by username`),
          ['bare-user', 'empty-user'].map((username) => ({ username, firstname: '', lastname: '' })));
        assert.deepEqual(await db.sql(`select description from role where name = 'Reader'`), [{ description: null }]);
        // A database that holds the other form (NULL where the API writes '', and back) is the same.
        await db.sql(`update organization set domain = null, address1 = null, zipcode = null, country = null, address2 = '' where name = 'Bare Hospital'`);
        await db.sql(`update "user" set firstname = null where username = 'bare-user'`);
        await db.sql(`update role set description = '' where name = 'Reader'`);
        const planned = await runCli(['plan', config, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir });
        assert.equal(planned.code, 0, planned.stdout);
        const exported = path.join(db.dir, 'exported.yaml');
        assert.equal((await runCli(['export', '-o', exported, '--database', db.url], { cwd: db.dir })).code, 0);
        assert.doesNotMatch(readFileSync(exported, 'utf8'), /: ""|: ''/);
        assert.equal((await runCli(['plan', exported, '--database', db.url, '--detailed-exitcode'], { cwd: db.dir })).code, 0);
        // A field set and then removed from the config is stored as the API stores an emptied one.
        const set = writeConfig(db, readFileSync(config, 'utf8').replace('  - name: Bare Hospital\n', '  - name: Bare Hospital\n    domain: bare.example.org\n    address2: Wing B\n'), 'set.yaml');
        assert.equal((await apply(db, set)).code, 0);
        assert.equal((await apply(db, config)).code, 0);
        assert.deepEqual(await db.sql(`select domain, address2 from organization where name = 'Bare Hospital'`), [{ domain: '', address2: null }]);
      });
    });

    it('stores node keys and passwords only as bcrypt hashes that verify against the secrets file', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText().replace('roles: [Organization Admin]', 'roles: [Organization Admin]\n    password: ${LOTTE_PW}'));
        const applied = await apply(db, config, [], { LOTTE_PW: 'Lotte-Secret-42!' });
        assert.equal(applied.code, 0, applied.stderr);
        const secretsFile = path.join(db.dir, 'fedctl-secrets.yaml');
        assert.equal(statSync(secretsFile).mode & 0o777, 0o600);
        const secrets = parse(readFileSync(secretsFile, 'utf8')) as { nodes: Record<string, { api_key: string }>; users: Record<string, { password: string }> };
        const nodes = await db.sql('select name, api_key from node order by name');
        assert.deepEqual(nodes.map((n) => n.name), Object.keys(secrets.nodes).sort());
        const pairs: [string, string][] = nodes.map((n) => [secrets.nodes[String(n.name)]?.api_key ?? '', String(n.api_key)]);
        const users = await db.sql('select username, password from "user" order by username');
        const anna = users.find((u) => u.username === 'anna.devries');
        const lotte = users.find((u) => u.username === 'lotte.peeters');
        pairs.push([secrets.users['anna.devries']?.password ?? '', String(anna?.password)], ['Lotte-Secret-42!', String(lotte?.password)]);
        assert.equal(users.find((u) => u.username === 'ingrid.hansen')?.password, null);
        assert.deepEqual(Object.keys(secrets.users), ['anna.devries']);
        for (const [plain, hash] of pairs) {
          assert.match(hash, /^\$2b\$04\$.{53}$/);
          assert.ok(bcrypt.compareSync(plain, hash));
          assert.match(plain, /./);
        }
        assert.ok(nodes.every((n) => /^[0-9a-f-]{36}$/.test(secrets.nodes[String(n.name)]?.api_key ?? '')));
        assertPythonBcryptVerifies(pairs);
        for (const output of [applied.stdout, applied.stderr]) {
          for (const [plain] of pairs) assert.ok(!output.includes(plain), 'a secret was printed');
        }
      });
    });

    it('changes one user\'s roles and one collaboration\'s members, and nothing else', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        writeConfig(db, exampleText()
          .replace('roles: [Researcher, Auditor]', 'roles: [Viewer, Auditor]')
          .replace('      - organization: Oslo University Hospital\n', ''));
        const planned = await plan(db, config);
        assert.equal(planned.code, 2);
        const body = planned.stdout.replace(/\x1b\[[0-9;]*m/g, '');
        assert.match(body, /~ collaboration "Rare Tumours Registry"\n\s+members:\n\s+- "Oslo University Hospital"\n/);
        assert.match(body, /~ user "felix\.wagner"\n\s+roles:\n\s+\+ "Viewer"\n\s+- "Researcher"\n/);
        assert.match(body, /Plan: 0 to add, 2 to change, 0 to destroy\./);
        // The removed member's node is no longer in the config: left alone, reported as unmanaged.
        assert.match(body, /1 object\(s\) in the database are not in the config/);
        assert.equal((await apply(db, config)).code, 0);
        assert.equal((await plan(db, config)).code, 0);
        const members = await db.sql(`select o.name from "Member" m join organization o on o.id = m.organization_id join collaboration c on c.id = m.collaboration_id where c.name = 'Rare Tumours Registry' order by 1`);
        assert.deepEqual(members.map((m) => m.name), ['Charité Berlin', 'IKNL']);
      });
    });

    it('updates every kind of entity in place, keeping ids', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await apply(db, config)).code, 0);
        const idsBefore = await db.sql('select id, name from organization union all select id, name from node union all select id, username from "user" order by 1, 2');
        writeConfig(db, exampleText()
          .replace('zipcode: 3511 DT', 'zipcode: 3511 DX')
          .replace('encrypted: false', 'encrypted: true')
          .replace('          name: charite-crc-node', '          name: charite-colorectal')
          .replace('organizations: [IKNL, Maastricht UMC+]', 'organizations: [IKNL, Charité Berlin]')
          .replace('description: Read-only view of collaborations, their organizations and nodes', 'description: Sees collaborations')
          .replace('        scope: organization\n        operation: [view, edit]', '        scope: organization\n        operation: view')
          .replace('email: l.peeters@mumc.nl', 'email: lotte.peeters@mumc.nl')
          .replace('        scope: collaboration\n        operation: receive', '        scope: organization\n        operation: receive'));
        const planned = await plan(db, config);
        assert.match(planned.stdout, /Plan: 0 to add, 8 to change, 0 to destroy\./);
        assert.match(planned.stdout, /zipcode: "3511 DT" -> "3511 DX"/);
        assert.match(planned.stdout, /name: "charite-crc-node" -> "charite-colorectal"/);
        assert.match(planned.stdout, /\+ event: receive \(organization\)\n\s+- event: receive \(collaboration\)/);
        assert.equal((await apply(db, config)).code, 0);
        assert.equal((await plan(db, config)).code, 0);
        const idsAfter = await db.sql('select id, name from organization union all select id, name from node union all select id, username from "user" order by 1, 2');
        assert.deepEqual(idsAfter.map((r) => r.id), idsBefore.map((r) => r.id));
      });
    });

    it('leaves the database and the secrets file as they were when apply fails midway', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText().replace(/\nstudies:[\s\S]*$/, '\n'));
        await db.sql(engine === 'sqlite'
          ? `create trigger fail_users before insert on "user" begin select raise(abort, 'forced failure'); end`
          : `create function fail_users() returns trigger language plpgsql as $$ begin raise exception 'forced failure'; end $$`);
        if (engine === 'postgres') await db.sql('create trigger fail_users before insert on "user" for each row execute function fail_users()');
        const secretsFile = path.join(db.dir, 'fedctl-secrets.yaml');
        const previous = '# kept\nnodes:\n  old-node:\n    organization: X\n    collaboration: Y\n    api_key: 00000000-0000-4000-8000-000000000000\n    created_at: then\nusers: {}\n';
        writeConfig(db, previous, 'fedctl-secrets.yaml');
        const before = await snapshot(db);
        const failed = await apply(db, config);
        assert.equal(failed.code, 1);
        assert.match(failed.stderr, /^Error: apply failed and was rolled back: .*forced failure/m);
        assert.doesNotMatch(failed.stderr, /bug in fedctl/);
        assert.deepEqual(await snapshot(db), before);
        assert.equal(readFileSync(secretsFile, 'utf8'), previous);
      });
    });

    it('commits nothing when the secrets file cannot be written', async () => {
      await withInitializedDatabase(engine, async (db) => {
        const config = writeConfig(db, exampleText());
        const before = await snapshot(db);
        const secretsFile = path.join(db.dir, 'secrets', 'fedctl-secrets.yaml');
        mkdirSync(path.dirname(secretsFile));
        // The file turns into a folder once hashing has started: after the up-front check, before the write.
        const { applyToDatabase } = await import('../../src/backends/database/apply-to-database.js');
        const { PlaintextSecretsStore } = await import('../../src/secrets/secrets-file.js');
        const { loadConfig } = await import('../../src/config/load-config.js');
        const { validateConfig } = await import('../../src/config/validate-config.js');
        const { planFrom } = await import('../../src/cli/commands/plan-command.js');
        const { DatabaseBackend } = await import('../../src/backends/database/database-backend.js');
        const { DEFAULT_PLAN_OPTIONS } = await import('../../src/plan/plan-options.js');
        const desired = validateConfig(await loadConfig([config]), {}).desired;
        assert.ok(desired);
        const backend = new DatabaseBackend(db.target);
        const { plan: reviewed } = planFrom(backend, desired, DEFAULT_PLAN_OPTIONS, await backend.read({ lockTimeoutMs: 1000, forDeletes: true }), true);
        const adapter = await db.open();
        try {
          await assert.rejects(applyToDatabase(adapter, reviewed, () => reviewed, {
            secrets: new PlaintextSecretsStore(secretsFile), record: null, bcryptCost: 4, lockTimeoutMs: 1000, allowDestroy: false, env: {}, serverAddress: null,
            onHashProgress: () => { if (!existsSync(secretsFile)) mkdirSync(secretsFile); },
          }), /secrets file/);
        } finally {
          await adapter.close();
        }
        assert.deepEqual(await snapshot(db), before);
        assert.ok(statSync(secretsFile).isDirectory());
        rmSync(secretsFile, { recursive: true });
      });
    });

    it('handles a database loaded from the reference schema and seed like one made by init', async () => {
      const reference = await createTestDatabase(engine);
      try {
        await loadRelease(reference, '4.14');
        const config = writeConfig(reference, exampleText());
        const planned = await plan(reference, config);
        assert.equal(planned.code, 2);
        assert.match(planned.stdout, /Plan: 19 to add/);
        assert.equal((await apply(reference, config)).code, 0);
        assert.equal((await plan(reference, config)).code, 0);
        await withInitializedDatabase(engine, async (made) => {
          const madeConfig = writeConfig(made, exampleText());
          assert.equal((await apply(made, madeConfig)).code, 0);
          const names = async (db: TestDatabase) => db.sql(`select 'org' as k, name from organization union all select 'node', name from node
            union all select 'user', username from "user" union all select 'role', name from role union all select 'study', name from study order by 1, 2`);
          assert.deepEqual(await names(reference), await names(made));
        });
      } finally {
        await reference.drop();
      }
    });
  });
}

describe('a commit refused by PostgreSQL', { skip: ENGINES.find((e) => e.engine === 'postgres')?.skip ?? false }, () => {
  it('is reported as rolled back, with its cause, and the secrets file is put back', async () => {
    await withInitializedDatabase('postgres', async (db) => {
      // A deferred constraint trigger fails at COMMIT, after every row and the secrets file were written.
      await db.sql(`create function fail_at_commit() returns trigger language plpgsql as $$ begin raise exception 'refused at commit'; end $$`);
      await db.sql('create constraint trigger fail_at_commit after insert on organization deferrable initially deferred for each row execute function fail_at_commit()');
      const config = writeConfig(db, exampleText());
      const before = await snapshot(db);
      const failed = await apply(db, config);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /^Error: apply failed and was rolled back: refused at commit/m);
      assert.deepEqual(await snapshot(db), before);
      // The secrets file had been written before COMMIT; the refused commit puts it back as it was: absent.
      assert.ok(!existsSync(path.join(db.dir, 'fedctl-secrets.yaml')));
    });
  });
});
