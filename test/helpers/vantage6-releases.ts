import { readFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import type { ReferenceRelease } from '../../src/catalog/vantage6-versions.js';
import { referenceDir, type TestDatabase } from './test-databases.js';

/** Load a carried release's schema and seed the way its server's tools would: psql on PostgreSQL, sqlite3 on SQLite. */
export async function loadRelease(db: TestDatabase, release: ReferenceRelease, seedRelease: ReferenceRelease = release): Promise<void> {
  const dir = referenceDir(release);
  const seedFile = path.join(referenceDir(seedRelease), 'seed.postgres.sql');
  if (db.engine === 'postgres') {
    await db.loadFile(path.join(dir, 'schema.postgres.sql'));
    await db.loadFile(seedFile);
    return;
  }
  await db.loadFile(readFileSync(path.join(dir, 'schema.sqlite.sql'), 'utf8'));
  // The seed is a PostgreSQL dump: its INSERTs load into SQLite once the schema name is gone (notes.md).
  const inserts = readFileSync(seedFile, 'utf8').split('\n').filter((line) => line.startsWith('INSERT INTO public.'))
    .map((line) => line.replace('INSERT INTO public.', 'INSERT INTO '));
  await db.loadFile(inserts.join('\n'));
}

/** What a server's first `.start()` adds after the seed: the root organization and the root user with the Root role. */
export async function addRootUser(db: TestDatabase): Promise<void> {
  await db.sql("insert into organization (id, name) values (1, 'root')");
  await db.sql("insert into authenticatable (id, type) values (1, 'user')");
  await db.sql(`insert into "user" (id, username, email, organization_id, failed_login_attempts, password)
    values (1, 'root', 'root@domain.ext', 1, 0, '${bcrypt.hashSync('root', 4)}')`);
  await db.sql('insert into "Permission" (role_id, user_id) values (1, 1)');
  if (db.engine === 'postgres') {
    for (const table of ['organization', 'authenticatable']) await db.sql(`select setval('${table}_id_seq', (select max(id) from ${table}))`);
  }
}

/** Add a column as vantage6's `_add_missing_columns` does: `ALTER TABLE … ADD COLUMN` with the type only, no constraint. */
async function addColumn(db: TestDatabase, table: string, column: string, type: 'INTEGER' | 'TIMESTAMP' | 'BOOLEAN'): Promise<void> {
  const engineType = type === 'TIMESTAMP' ? (db.engine === 'postgres' ? 'TIMESTAMP WITHOUT TIME ZONE' : 'DATETIME') : type;
  await db.sql(`alter table "${table}" add column ${column} ${engineType}`);
}

interface ReferenceRoleFile {
  id: number;
  description: string;
  rules: { name: string; scope: string; operation: string }[];
  duplicate_association_rows: { name: string; scope: string; operation: string; count: number }[];
}

/**
 * Start a 4.14 server on a 4.3 database, as VERSIONS.md describes it: the
 * missing columns added with their type only (no foreign key), the new rule
 * appended with the next id, the built-in roles' rules and descriptions
 * rewritten in place (same role ids; users keep their Permission rows).
 */
export async function upgradeFrom43To414(db: TestDatabase): Promise<void> {
  await addColumn(db, 'task', 'algorithm_store_id', 'INTEGER');
  await addColumn(db, 'run', 'cleanup_at', 'TIMESTAMP');
  await addColumn(db, 'run', 'blob_storage_used', 'BOOLEAN');
  await db.sql("insert into rule (id, name, operation, scope, description) values ((select max(id) + 1 from rule), 'organization', 'DELETE', 'GLOBAL', 'delete any organization')");
  if (db.engine === 'postgres') await db.sql("select setval('rule_id_seq', (select max(id) from rule))");
  const roles = JSON.parse(readFileSync(path.join(referenceDir('4.14'), 'default_roles.json'), 'utf8')) as ReferenceRoleFile[];
  for (const role of roles) {
    await db.sql(`delete from role_rule_association where role_id = ${role.id}`);
    const duplicates = role.duplicate_association_rows.flatMap((d) => Array.from({ length: d.count - 1 }, () => d));
    for (const rule of [...role.rules, ...duplicates]) {
      await db.sql(`insert into role_rule_association (role_id, rule_id) select ${role.id}, id from rule
        where name = '${rule.name}' and scope = '${rule.scope}' and operation = '${rule.operation}'`);
    }
    await db.sql(`update role set description = '${role.description.replaceAll("'", "''")}' where id = ${role.id}`);
  }
}

/** A vantage6 database as a release's own server leaves it at its first start. */
export interface ServerDatabase {
  readonly release: string;
  /** The releases fedctl should say the database fits. */
  readonly range: string;
  readonly studies: boolean;
  build(db: TestDatabase): Promise<void>;
}

/**
 * Every 4.x release of VERSIONS.md: the carried ones from their reference
 * data, the others as VERSIONS.md describes them relative to a carried one.
 */
export const SERVER_DATABASES: readonly ServerDatabase[] = [
  { release: '4.0', range: '4.0 to 4.1', studies: false, build: (db) => loadRelease(db, '4.0') },
  {
    release: '4.2', range: '4.2', studies: false,
    // As 4.0, but user.last_email_failed_login_sent exists.
    build: async (db) => {
      await loadRelease(db, '4.0');
      await addColumn(db, 'user', 'last_email_failed_login_sent', 'TIMESTAMP');
    },
  },
  { release: '4.3', range: '4.3 to 4.5', studies: true, build: (db) => loadRelease(db, '4.3') },
  { release: '4.6', range: '4.6 to 4.7', studies: true, build: (db) => loadRelease(db, '4.6') },
  // The schema of 4.6 with the rule catalogue and roles of 4.10 (identical in 4.8 to 4.13).
  { release: '4.8', range: '4.8 to 4.9', studies: true, build: (db) => loadRelease(db, '4.6', '4.10') },
  { release: '4.10', range: '4.10 to 4.12', studies: true, build: (db) => loadRelease(db, '4.10') },
  { release: '4.12', range: '4.10 to 4.12', studies: true, build: (db) => loadRelease(db, '4.10') },
  { release: '4.13', range: '4.13 to 4.15', studies: true, build: (db) => loadRelease(db, '4.13') },
  { release: '4.14', range: '4.13 to 4.15', studies: true, build: (db) => loadRelease(db, '4.14') },
  { release: '4.15', range: '4.13 to 4.15', studies: true, build: (db) => loadRelease(db, '4.15') },
];
