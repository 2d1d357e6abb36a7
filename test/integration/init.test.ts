import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_ROLES, RULE_CATALOG, ruleKey } from '../../src/catalog/rule-catalog.js';
import { VANTAGE6_COLUMNS } from '../../src/db/vantage6-tables.js';
import { readState } from '../../src/state/read-state.js';
import { freshState } from '../../src/state/fresh-state.js';
import { runCli } from '../helpers/run-cli.js';
import { ENGINES, REFERENCE_DIR, createTestDatabase, type TestDatabase } from '../helpers/test-databases.js';

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

async function loadReferenceSchema(db: TestDatabase): Promise<void> {
  if (db.engine === 'sqlite') await db.loadFile(readFileSync(path.join(REFERENCE_DIR, 'schema.sqlite.sql'), 'utf8'));
  else await db.loadFile(path.join(REFERENCE_DIR, 'schema.postgres.sql'));
}

for (const { engine, skip } of ENGINES) {
  describe(`fedctl init on ${engine}`, { skip }, () => {
    it('creates exactly the reference schema', async () => {
      const made = await createTestDatabase(engine);
      const reference = await createTestDatabase(engine);
      try {
        const result = await runCli(['init', '--database', made.url], { cwd: made.dir });
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /vantage6 4\.14 schema, 86 rules and 7 built-in roles/);
        await loadReferenceSchema(reference);
        assert.deepEqual(await catalog(made), await catalog(reference));
      } finally {
        await made.drop();
        await reference.drop();
      }
    });

    it('seeds the rule catalogue and the built-in roles as the server does', async () => {
      const db = await createTestDatabase(engine);
      try {
        assert.equal((await runCli(['init', '--database', db.url], { cwd: db.dir })).code, 0);
        const rules = await db.sql('select id, name, operation, scope from rule order by id');
        assert.deepEqual(rules.map((r) => [Number(r.id), ruleKey({ resource: String(r.name), scope: r.scope as never, operation: r.operation as never })]),
          RULE_CATALOG.map((r) => [r.id, ruleKey(r)]));
        const links = await db.sql('select role_id, count(*) as n from role_rule_association group by role_id order by role_id');
        assert.deepEqual(links.map((l) => [Number(l.role_id), Number(l.n)]), DEFAULT_ROLES.map((r) => [r.id, r.associationRows.length]));
        const roles = await db.sql('select name, is_default_role, organization_id from role order by id');
        assert.ok(roles.every((r) => Boolean(r.is_default_role) && r.organization_id === null));
        // The state a fresh database reads as is the one plan assumes for a database that does not exist yet.
        const adapter = await db.open();
        try {
          assert.deepEqual(await adapter.readSnapshot(readState), freshState());
        } finally {
          await adapter.close();
        }
      } finally {
        await db.drop();
      }
    });

    it('changes nothing when run on a complete database', async () => {
      const db = await createTestDatabase(engine);
      try {
        assert.equal((await runCli(['init', '--database', db.url], { cwd: db.dir })).code, 0);
        await db.sql("insert into organization (id, name) values (100, 'Kept')");
        const before = await db.sql('select count(*) as n from rule');
        const again = await runCli(['init', '--database', db.url], { cwd: db.dir });
        assert.equal(again.code, 0);
        assert.match(again.stdout, /already has the vantage6 schema; nothing was changed/);
        assert.deepEqual(await db.sql('select count(*) as n from rule'), before);
        assert.deepEqual(await db.sql('select name from organization'), [{ name: 'Kept' }]);
      } finally {
        await db.drop();
      }
    });

    it('accepts a database loaded from the reference schema and seed', async () => {
      const db = await createTestDatabase(engine);
      try {
        await loadReferenceSchema(db);
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
        assert.match(result.stderr, /part of the vantage6 4\.14 schema; missing: /);
        assert.match(result.stderr, /column organization\.domain/);
        assert.match(result.stderr, /table user,/);
        assert.deepEqual((await db.sql(engine === 'sqlite'
          ? "select name from sqlite_master where type = 'table' order by name"
          : "select table_name as name from information_schema.tables where table_schema = 'public' order by 1")).map((r) => r.name),
        ['collaboration', 'organization']);
      } finally {
        await db.drop();
      }
    });

    it('refuses a vantage6 table that lacks a column', async () => {
      const db = await createTestDatabase(engine);
      try {
        await loadReferenceSchema(db);
        await db.sql(engine === 'sqlite' ? 'alter table node drop column api_key' : 'alter table node drop column api_key');
        const result = await runCli(['init', '--database', db.url], { cwd: db.dir });
        assert.equal(result.code, 1);
        assert.match(result.stderr, /missing: column node\.api_key/);
      } finally {
        await db.drop();
      }
    });
  });
}

describe('schema knowledge', () => {
  it('VANTAGE6_COLUMNS lists exactly the tables and columns of the reference SQLite DDL', async () => {
    const db = await createTestDatabase('sqlite');
    try {
      await db.loadFile(readFileSync(path.join(REFERENCE_DIR, 'schema.sqlite.sql'), 'utf8'));
      const rows = await db.sql(`select m.name as tbl, p.name as col from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table'`);
      const actual: Record<string, string[]> = {};
      for (const row of rows) (actual[String(row.tbl)] ??= []).push(String(row.col));
      const sortRecord = (r: Record<string, readonly string[]>): [string, string[]][] =>
        Object.entries(r).map(([k, v]): [string, string[]] => [k, [...v].sort()]).sort(([a], [b]) => a.localeCompare(b));
      assert.deepEqual(sortRecord(actual), sortRecord(VANTAGE6_COLUMNS));
    } finally {
      await db.drop();
    }
  });
});
