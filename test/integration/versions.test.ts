import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { exampleFor, exampleText, snapshot, writeConfig } from '../helpers/fixtures.js';
import { assertPythonBcryptVerifies } from '../helpers/python-bcrypt.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { SERVER_DATABASES, addRootUser, loadRelease, upgradeFrom43To414 } from '../helpers/vantage6-releases.js';

const FAST = ['--bcrypt-cost', '4'];

const fedctl = (db: TestDatabase, args: string[]): Promise<CliResult> =>
  runCli([...args, '--database', db.url], { cwd: db.dir });

/** The rows of the built-in roles: fedctl never changes them. */
async function builtInRoles(db: TestDatabase): Promise<unknown> {
  return db.sql(`select r.id, r.name, r.description, a.rule_id from role r join role_rule_association a on a.role_id = r.id
    where r.id <= 7 order by r.id, a.rule_id`);
}

/** A column a newer release might add: NOT NULL without a default (SQLite adds one only by rebuilding the table). */
async function addRequiredColumn(db: TestDatabase, table: string, column: string): Promise<void> {
  if (db.engine === 'postgres') {
    await db.sql(`alter table "${table}" add column ${column} integer not null default 0`);
    await db.sql(`alter table "${table}" alter column ${column} drop default`);
    return;
  }
  const [ddl] = await db.sql(`select sql from sqlite_master where type = 'table' and name = '${table}'`);
  const rebuilt = String(ddl?.sql).replace(`CREATE TABLE ${table} (`, `CREATE TABLE ${table}_new (`)
    .replace(/PRIMARY KEY \(id\)/, `${column} INTEGER NOT NULL,\n\tPRIMARY KEY (id)`);
  await db.loadFile(`pragma foreign_keys = off; ${rebuilt}; insert into ${table}_new select *, 0 from "${table}";
    drop table "${table}"; alter table ${table}_new rename to "${table}";`);
}

async function withServerDatabase(engine: TestDatabase['engine'], build: (db: TestDatabase) => Promise<void>, body: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(engine);
  try {
    await build(db);
    await addRootUser(db);
    await body(db);
  } finally {
    await db.drop();
  }
}

for (const { engine, skip } of ENGINES) {
  describe(`every vantage6 4.x release on ${engine}`, { skip }, () => {
    for (const server of SERVER_DATABASES) {
      it(`${server.release}: plan names the release, apply, plan and export-then-plan show no changes; keys verify with Python's bcrypt`, async () => {
        await withServerDatabase(engine, server.build, async (db) => {
          const roles = await builtInRoles(db);
          const config = writeConfig(db, exampleFor(server.studies));
          const planned = await fedctl(db, ['plan', config, '--detailed-exitcode', '--json']);
          assert.equal(planned.code, 2, planned.stderr);
          assert.equal((JSON.parse(planned.stdout) as { database: { vantage6: string } }).database.vantage6, server.range);

          const applied = await fedctl(db, ['apply', config, '--auto-approve', '--no-color', ...FAST]);
          assert.equal(applied.code, 0, applied.stderr);
          assert.match(applied.stdout, new RegExp(`\\(vantage6 ${server.range.replaceAll('.', '\\.')}\\)`));
          const again = await fedctl(db, ['plan', config, '--detailed-exitcode']);
          assert.equal(again.code, 0, again.stdout + again.stderr);
          assert.deepEqual(await builtInRoles(db), roles, 'the built-in roles are untouched');
          // As the release's POST /node: NULL until the node connects before 4.8, 'offline' from 4.8.
          const statuses = await db.sql(`select distinct a.status from authenticatable a where a.type = 'node'`);
          assert.deepEqual(statuses, [{ status: Number(server.release.split('.')[1]) >= 8 ? 'offline' : null }]);

          const exportFile = path.join(db.dir, 'exported.yaml');
          const exported = await fedctl(db, ['export', '-o', exportFile]);
          assert.equal(exported.code, 0, exported.stderr);
          const exportedText = readFileSync(exportFile, 'utf8');
          assert.match(exportedText, new RegExp(`^# Exported by fedctl from .* \\(vantage6 ${server.range.replaceAll('.', '\\.')}\\)`));
          const validated = await runCli(['validate', exportFile], { cwd: db.dir });
          assert.equal(validated.code, 0, validated.stderr);
          const replanned = await fedctl(db, ['plan', exportFile, '--detailed-exitcode']);
          assert.equal(replanned.code, 0, replanned.stdout + replanned.stderr);

          const secrets = parse(readFileSync(path.join(db.dir, 'fedctl-secrets.yaml'), 'utf8')) as { nodes: Record<string, { api_key: string }> };
          const nodes = await db.sql('select name, api_key from node order by name');
          assert.equal(nodes.length, 5);
          assertPythonBcryptVerifies(nodes.map((n) => [secrets.nodes[String(n.name)]?.api_key ?? '', String(n.api_key)] as const));
        });
      });
    }

    it('4.0: a study or a study rule is refused at its place, and nothing is written', async () => {
      await withServerDatabase(engine, (db) => loadRelease(db, '4.0'), async (db) => {
        const before = await snapshot(db);
        const config = writeConfig(db, exampleText());
        for (const args of [['plan', config], ['apply', config, '--auto-approve', ...FAST]]) {
          const result = await fedctl(db, args);
          assert.equal(result.code, 1, `${args[0]}: ${result.stdout}`);
          const lines = result.stderr.split('\n').filter((line) => line.startsWith(config));
          assert.deepEqual(lines.map((line) => line.slice(config.length)), [
            ':34:9 roles[0].rules[1]: vantage6 4.0 to 4.1 has no rules for study (the rules come from the server\'s own catalogue; upgrade the server or remove this rule)',
            ':112:11 studies[0].name: vantage6 4.0 to 4.1 has no studies (studies come with vantage6 4.3; remove the study or upgrade the server first)',
          ]);
        }
        assert.deepEqual(await snapshot(db), before);
      });
    });

    it('a database upgraded in place from 4.3 to 4.14: plan, apply and export work and keep every id', async () => {
      await withServerDatabase(engine, (db) => loadRelease(db, '4.3'), async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await fedctl(db, ['apply', config, '--auto-approve', ...FAST])).code, 0);
        const ids = async (): Promise<unknown> => ({
          users: await db.sql('select id, username from "user" order by id'),
          roles: await db.sql('select id, name from role order by id'),
          nodes: await db.sql('select id, name, api_key from node order by id'),
          permissions: await db.sql('select user_id, role_id from "Permission" order by 1, 2'),
        });
        const before = await ids();

        await upgradeFrom43To414(db);
        const planned = await fedctl(db, ['plan', config, '--detailed-exitcode']);
        assert.equal(planned.code, 0, planned.stdout + planned.stderr);
        assert.match(planned.stdout, /\(vantage6 4\.13 to 4\.15\) matches the config/);

        // The rule the upgrade appended (id 86 here, 27 in a fresh 4.14 database) is found by name, scope and operation.
        const changed = writeConfig(db, exampleText().replace(
          '      - resource: node\n        scope: collaboration\n        operation: view\n',
          '      - resource: node\n        scope: collaboration\n        operation: view\n      - resource: organization\n        scope: global\n        operation: delete\n'));
        const applied = await fedctl(db, ['apply', changed, '--auto-approve', ...FAST]);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, /Apply complete: 0 added, 1 changed, 0 destroyed\./);
        const link = await db.sql(`select a.rule_id from role_rule_association a join role r on r.id = a.role_id join rule u on u.id = a.rule_id
          where r.name = 'Auditor' and u.name = 'organization' and u.operation = 'DELETE'`);
        assert.deepEqual(link.map((l) => Number(l.rule_id)), [86]);
        assert.equal((await fedctl(db, ['plan', changed, '--detailed-exitcode'])).code, 0);
        assert.deepEqual(await ids(), before);

        const exportFile = path.join(db.dir, 'exported.yaml');
        assert.equal((await fedctl(db, ['export', '-o', exportFile])).code, 0);
        const replanned = await fedctl(db, ['plan', exportFile, '--detailed-exitcode']);
        assert.equal(replanned.code, 0, replanned.stdout + replanned.stderr);
      });
    });

    it('a database newer than fedctl knows: what it has is named, and a write it would refuse is refused in the plan', async () => {
      await withServerDatabase(engine, (db) => loadRelease(db, '4.15'), async (db) => {
        await addRequiredColumn(db, 'user', 'tenant_id');
        await db.sql('create table dataframe (id integer primary key)');
        await db.sql('alter table organization add column region varchar');
        await db.sql("insert into rule (id, name, operation, scope, description) values (87, 'dataframe', 'VIEW', 'GLOBAL', 'view any dataframe')");
        const before = await snapshot(db);
        const config = writeConfig(db, exampleText());
        const planned = await fedctl(db, ['plan', config, '--no-color']);
        assert.equal(planned.code, 1, planned.stderr);
        assert.match(planned.stdout, /^! This database has what no vantage6 release up to 4\.15 has: table dataframe, column organization\.region, column user\.tenant_id, rule dataframe: view \(global\)\./m);
        assert.match(planned.stdout, /Refused: 5 change\(s\) that cannot be made:\n {2}! create user "anna\.devries": the database requires user\.tenant_id \(NOT NULL without a default\), which fedctl does not fill: no vantage6 release up to 4\.15 has it/);
        assert.match(planned.stdout, /Plan: 14 to add, 0 to change, 0 to destroy\./);
        assert.match(planned.stderr, /the plan has 5 change\(s\) that cannot be made/);
        const json = JSON.parse((await fedctl(db, ['plan', config, '--json'])).stdout) as { database: { unknown: string[] }; blocked: { action: string; kind: string }[] };
        assert.deepEqual(json.database.unknown, ['table dataframe', 'column organization.region', 'column user.tenant_id', 'rule dataframe: view (global)']);
        assert.deepEqual(new Set(json.blocked.map((b) => `${b.action} ${b.kind}`)), new Set(['create user']));
        const refused = await fedctl(db, ['apply', config, '--auto-approve', ...FAST]);
        assert.equal(refused.code, 1);
        assert.deepEqual(await snapshot(db), before, 'nothing written');

        // Without users, nothing needs the column: organizations get the unknown nullable one empty, as before.
        const withoutUsers = writeConfig(db, exampleText().replace(/\nusers:\n[\s\S]*?\ncollaborations:/, '\ncollaborations:'));
        const applied = await fedctl(db, ['apply', withoutUsers, '--auto-approve', ...FAST]);
        assert.equal(applied.code, 0, applied.stdout + applied.stderr);
        assert.deepEqual(await db.sql("select region from organization where name = 'IKNL'"), [{ region: null }]);
        assert.equal((await fedctl(db, ['plan', withoutUsers, '--detailed-exitcode'])).code, 0);
      });
    });

    it('built-in roles whose is_default_role an upgrade added as NULL are still known by name, and never pruned', async () => {
      await withServerDatabase(engine, (db) => loadRelease(db, '4.0'), async (db) => {
        await db.sql('alter table role add column is_default_role boolean');
        const roles = await builtInRoles(db);
        const config = writeConfig(db, `prune: { roles: true }\n${exampleFor(false)}`);
        const applied = await fedctl(db, ['apply', config, '--auto-approve', '--allow-destroy', ...FAST]);
        assert.equal(applied.code, 0, applied.stderr);
        assert.match(applied.stdout, / 0 destroyed\./);
        assert.deepEqual(await builtInRoles(db), roles);
        const custom = await db.sql("select name, is_default_role from role where name in ('Auditor', 'Data Steward') order by name");
        assert.deepEqual(custom.map((r) => [r.name, Boolean(r.is_default_role), r.is_default_role === null]), [['Auditor', false, false], ['Data Steward', false, false]]);
      });
    });

    it('a study that tasks ran in (task.study_id, from 4.3) is never pruned', async () => {
      await withServerDatabase(engine, (db) => loadRelease(db, '4.3'), async (db) => {
        const config = writeConfig(db, exampleText());
        assert.equal((await fedctl(db, ['apply', config, '--auto-approve', ...FAST])).code, 0);
        await db.sql(`insert into task (id, name, collaboration_id, study_id, init_org_id)
          select 1, 'survival', collaboration_id, id, null from study`);
        const pruned = writeConfig(db, `prune: { studies: true }\n${exampleText().replace(/\nstudies:\n[\s\S]*$/, '\n')}`);
        const planned = await fedctl(db, ['plan', pruned, '--allow-destroy', '--show-unmanaged']);
        assert.equal(planned.code, 1, planned.stdout);
        assert.match(planned.stdout, /! delete study "CRC survival 2026": /);
      });
    });
  });
}
