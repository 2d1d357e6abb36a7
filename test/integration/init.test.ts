import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceCatalog } from '../../src/catalog/reference-catalog.js';
import { ruleKey, type Operation, type Scope } from '../../src/catalog/rule-catalog.js';
import { FEATURES, DATABASE_RELEASES, minorOf } from '../../src/catalog/vantage6-versions.js';
import { inspectSchema, requireVantage6 } from '../../src/db/inspect-schema.js';
import { REQUIRED_COLUMNS } from '../../src/db/vantage6-tables.js';
import { freshState } from '../../src/state/fresh-state.js';
import { readState } from '../../src/backends/database/read-database-state.js';
import { EXAMPLE_CONFIG, tableColumns } from '../helpers/fixtures.js';
import { runCli } from '../helpers/run-cli.js';
import { ENGINES, createTestDatabase, type TestDatabase } from '../helpers/test-databases.js';
import { loadRelease } from '../helpers/vantage6-releases.js';

/** The catalog of a database: tables, columns with types and nullability, constraints, enum types. */
async function catalog(db: TestDatabase): Promise<unknown> {
  if (db.engine === 'sqlite') {
    const tables = await db.sql(`select m.name as tbl, p.name as col, p.type, p."notnull" as nn, p.pk
      from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table' order by m.name, p.cid`);
    const foreignKeys = await db.sql(`select m.name as tbl, f."from", f."table", f."to"
      from sqlite_master m join pragma_foreign_key_list(m.name) f where m.type = 'table' order by 1, 2, 3`);
    const indexes = await db.sql(`select m.name as tbl, i."unique", i.origin, group_concat(c.name) as cols
      from sqlite_master m join pragma_index_list(m.name) i join pragma_index_info(i.name) c
      where m.type = 'table' group by m.name, i.name order by 1, 4`);
    return { tables, foreignKeys, indexes };
  }
  const columns = await db.sql(`select table_name, column_name, data_type, udt_name, character_maximum_length, is_nullable, column_default
    from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`);
  const constraints = await db.sql(`select conrelid::regclass::text as tbl, conname, contype, pg_get_constraintdef(oid) as def
    from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`);
  const enums = await db.sql(`select t.typname, string_agg(e.enumlabel, ',' order by e.enumsortorder) as labels
    from pg_type t join pg_enum e on e.enumtypid = t.oid group by t.typname order by 1`);
  const sequences = await db.sql(`select sequencename, data_type, start_value, increment_by from pg_sequences order by 1`);
  return { columns, constraints, enums, sequences };
}

for (const { engine, skip } of ENGINES) {
  describe(`fedctl init on ${engine}`, { skip }, () => {
    for (const release of DATABASE_RELEASES) {
      it(`--vantage6-version ${release} creates exactly that release's schema, rules and built-in roles`, async () => {
        const made = await createTestDatabase(engine);
        const reference = await createTestDatabase(engine);
        try {
          const result = await runCli(['init', '--database', made.url, '--vantage6-version', release], { cwd: made.dir });
          assert.equal(result.code, 0, result.stderr);
          const { rules, defaultRoles } = referenceCatalog(release);
          assert.match(result.stdout, new RegExp(`vantage6 ${release.replace('.', '\\.')} schema, ${rules.length} rules and 7 built-in roles`));
          await loadRelease(reference, release);
          assert.deepEqual(await catalog(made), await catalog(reference));

          // Rows: the rule catalogue by id, and each built-in role's association rows (duplicates included).
          const rows = await made.sql('select id, name, operation, scope from rule order by id');
          assert.deepEqual(rows.map((r) => [Number(r.id), ruleKey({ resource: String(r.name), scope: r.scope as Scope, operation: r.operation as Operation })]),
            rules.map((r) => [r.id, ruleKey(r)]));
          const links = await made.sql(`select a.role_id, r.name, r.scope, r.operation from role_rule_association a
            join rule r on r.id = a.rule_id order by a.role_id, r.name, r.scope, r.operation`);
          for (const role of defaultRoles) {
            const actual = links.filter((l) => Number(l.role_id) === role.id)
              .map((l) => ruleKey({ resource: String(l.name), scope: l.scope as Scope, operation: l.operation as Operation })).sort();
            assert.deepEqual(actual, [...role.associationRows].sort(), `rules of ${role.name}`);
          }
          const roles = await made.sql('select * from role order by id');
          assert.deepEqual(roles.map((r) => [Number(r.id), r.name, r.description, r.organization_id]),
            defaultRoles.map((r) => [r.id, r.name, r.description, null]));
          const hasFlag = minorOf(release) >= FEATURES.defaultRoleFlag.since;
          assert.ok(roles.every((r) => (hasFlag ? Boolean(r.is_default_role) : !('is_default_role' in r))));

          // A fresh database reads as the state plan assumes for that release.
          const adapter = await made.open();
          try {
            const schema = requireVantage6(await inspectSchema(adapter), made.target.display);
            assert.deepEqual(await adapter.readSnapshot((db) => readState(db, schema)), freshState(release));
          } finally {
            await adapter.close();
          }
        } finally {
          await made.drop();
          await reference.drop();
        }
      });
    }

    it('creates the newest release by default', async () => {
      const db = await createTestDatabase(engine);
      try {
        const result = await runCli(['init', '--database', db.url], { cwd: db.dir });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /vantage6 4\.15 schema, 86 rules and 7 built-in roles/);
      } finally {
        await db.drop();
      }
    });

    it('refuses a release whose reference data fedctl does not carry, touching nothing', async () => {
      const db = await createTestDatabase(engine);
      try {
        const result = await runCli(['init', '--database', db.url, '--vantage6-version', '4.8'], { cwd: db.dir });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /can create the databases of vantage6 4\.0, 4\.3, 4\.6, 4\.10, 4\.13, 4\.14, 4\.15, not 4\.8/);
        assert.deepEqual(await tableColumns(db), {});
      } finally {
        await db.drop();
      }
    });

    it('changes nothing when run on a vantage6 database of any release', async () => {
      const db = await createTestDatabase(engine);
      try {
        assert.equal((await runCli(['init', '--database', db.url, '--vantage6-version', '4.0'], { cwd: db.dir })).code, 0);
        await db.sql("insert into organization (id, name) values (100, 'Kept')");
        const before = await db.sql('select count(*) as n from rule');
        const again = await runCli(['init', '--database', db.url], { cwd: db.dir });
        assert.equal(again.code, 0);
        assert.match(again.stdout, /already has the vantage6 schema; nothing was changed/);
        assert.deepEqual(await db.sql('select count(*) as n from rule'), before);
        assert.deepEqual(await db.sql('select name from organization'), [{ name: 'Kept' }]);
        assert.equal((await tableColumns(db)).study, undefined);
      } finally {
        await db.drop();
      }
    });

    it('accepts a database loaded from the reference schema and seed', async () => {
      const db = await createTestDatabase(engine);
      try {
        await loadRelease(db, '4.14');
        const result = await runCli(['init', '--database', db.url], { cwd: db.dir });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /already has the vantage6 schema/);
      } finally {
        await db.drop();
      }
    });

    it('refuses a partial schema, naming what is missing', async () => {
      const db = await createTestDatabase(engine);
      try {
        await db.sql('create table organization (id integer primary key, name varchar)');
        await db.sql('create table collaboration (id integer primary key, name varchar, encrypted boolean)');
        const result = await runCli(['init', '--database', db.url], { cwd: db.dir });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /is not a complete vantage6 4\.x database; missing: /);
        assert.match(result.stderr, /column organization\.domain/);
        assert.match(result.stderr, /table user,/);
        assert.match(result.stderr, /start the server version this database belongs to once, or restore a backup/);
        assert.deepEqual(Object.keys(await tableColumns(db)).sort(), ['collaboration', 'organization']);
      } finally {
        await db.drop();
      }
    });

    it('refuses a vantage6 table that lacks a column fedctl needs', async () => {
      const db = await createTestDatabase(engine);
      try {
        await loadRelease(db, '4.14');
        await db.sql('alter table node drop column api_key');
        const result = await runCli(['init', '--database', db.url], { cwd: db.dir });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /missing: column node\.api_key/);
      } finally {
        await db.drop();
      }
    });

    it('refuses half a feature: studies without their member table', async () => {
      const db = await createTestDatabase(engine);
      try {
        await loadRelease(db, '4.14');
        await db.sql('drop table "StudyMember"');
        const result = await runCli(['plan', '--database', db.url, EXAMPLE_CONFIG], { cwd: db.dir });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /missing: table StudyMember/);
      } finally {
        await db.drop();
      }
    });
  });
}

describe('schema knowledge', () => {
  for (const release of DATABASE_RELEASES) {
    it(`matches the DDL of vantage6 ${release}: every required column there, each feature exactly from its release`, async () => {
      const db = await createTestDatabase('sqlite');
      try {
        await loadRelease(db, release);
        const columns = await tableColumns(db);
        for (const [table, names] of Object.entries(REQUIRED_COLUMNS)) {
          for (const name of names) assert.ok(columns[table]?.includes(name), `${table}.${name} in ${release}`);
        }
        for (const [feature, { since, columns: featureColumns }] of Object.entries(FEATURES)) {
          for (const [table, names] of Object.entries(featureColumns)) {
            for (const name of names) {
              assert.equal(columns[table]?.includes(name) ?? false, minorOf(release) >= since, `${feature}: ${table}.${name} in ${release}`);
            }
          }
        }
      } finally {
        await db.drop();
      }
    });
  }
});
