/**
 * `node --import tsx test/real-server/make-reference.ts X.Y.Z [DIR]`: the
 * reference data of a vantage6 release, made by that release's own server at
 * its first start, as `reference/vantage6-X.Y/` holds it: PostgreSQL and
 * SQLite DDL (pg_dump, the sqlite3 tool), the seed the server writes (rules,
 * built-in roles and their rules), `rules.json` and `default_roles.json`.
 * A maintainer's tool: it needs PostgreSQL (FEDCTL_TEST_POSTGRES_URL),
 * pg_dump and sqlite3. `notes.md` is written by hand beside the data.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createScratchPostgres } from '../helpers/scratch-postgres.js';
import { startRealServer } from './real-server.js';

const POSTGRES_ADMIN_URL = process.env.FEDCTL_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

const [release, out = path.resolve(`reference/vantage6-${(release ?? '').split('.').slice(0, 2).join('.')}`)] = process.argv.slice(2);
if (!release || !/^4\.\d+\.\d+$/.test(release)) throw new Error('usage: make-reference.ts X.Y.Z [DIR]');

/** Who creates each built-in role at a first start (default_roles.py, permission.py). */
const CREATED_BY: Readonly<Record<string, string>> = {
  Root: 'PermissionManager (fixed role), then ServerApp._add_default_roles',
  container: 'PermissionManager.assign_rule_to_fixed_role (fixed role)',
  node: 'PermissionManager.assign_rule_to_fixed_role (fixed role)',
};
const SHORT_SCOPE: Readonly<Record<string, string>> = { OWN: 'own', ORGANIZATION: 'org', COLLABORATION: 'col', GLOBAL: 'glo' };
const SHORT_OPERATION: Readonly<Record<string, string>> = { VIEW: 'v', EDIT: 'e', CREATE: 'c', DELETE: 'd', SEND: 's', RECEIVE: 'r' };

/** Start the release's server once on a fresh database, as its first start; then stop it. */
async function firstStart(database: string, dir: string): Promise<void> {
  const server = await startRealServer(release as string, database, dir);
  await server.stop();
}

interface RuleRow { id: number; name: string; scope: string; operation: string; description: string }
interface RoleRow { id: number; name: string; description: string; organization_id: number | null; is_default_role: boolean }

const work = mkdtempSync(path.join(os.tmpdir(), 'fedctl-reference-'));
const scratch = await createScratchPostgres(POSTGRES_ADMIN_URL, 'fedctl_reference');
try {
  mkdirSync(out, { recursive: true });
  await firstStart(scratch.url, path.join(work, 'postgres'));
  const dump = (...args: string[]): string => execFileSync('pg_dump', ['--no-owner', '--no-privileges', ...args, '-d', scratch.url], { maxBuffer: 64 << 20 }).toString();
  writeFileSync(path.join(out, 'schema.postgres.sql'), dump('--schema-only', '--restrict-key=vantage6schema'));
  writeFileSync(path.join(out, 'seed.postgres.sql'),
    dump('--data-only', '--column-inserts', '--restrict-key=vantage6seed', '-t', 'rule', '-t', 'role', '-t', 'role_rule_association', '-t', 'rule_id_seq', '-t', 'role_id_seq'));

  const client = new pg.Client({ connectionString: scratch.url });
  await client.connect();
  try {
    const rules = (await client.query<RuleRow>('select id, name, scope::text as scope, operation::text as operation, description from rule order by id')).rows;
    const roles = (await client.query<RoleRow>('select id, name, description, organization_id, is_default_role from role order by id')).rows;
    const links = (await client.query<{ role_id: number; rule_id: number }>('select role_id, rule_id from role_rule_association')).rows;
    const ruleById = new Map(rules.map((rule) => [rule.id, rule]));
    const rulesOf = (roleId: number): number[] => links.filter((l) => l.role_id === roleId).map((l) => l.rule_id);
    const roleId = (name: string): number | undefined => roles.find((r) => r.name === name && r.organization_id === null)?.id;
    const inRole = (name: string, ruleId: number): boolean => rulesOf(roleId(name) ?? -1).includes(ruleId);
    writeFileSync(path.join(out, 'rules.json'), `${JSON.stringify(rules.map((rule) => ({
      id: rule.id, name: rule.name, scope: rule.scope, operation: rule.operation,
      scope_value: SHORT_SCOPE[rule.scope], operation_value: SHORT_OPERATION[rule.operation], description: rule.description,
      assigned_to_node: inRole('node', rule.id), assigned_to_container: inRole('container', rule.id),
    })), null, 2)}\n`);
    const triple = (id: number): { name: string; scope: string; operation: string } => {
      const rule = ruleById.get(id) as RuleRow;
      return { name: rule.name, scope: rule.scope, operation: rule.operation };
    };
    writeFileSync(path.join(out, 'default_roles.json'), `${JSON.stringify(roles.filter((role) => role.is_default_role).map((role) => {
      const rows = rulesOf(role.id);
      const distinct = [...new Set(rows)].sort((a, b) => a - b);
      return {
        id: role.id, name: role.name, description: role.description, organization_id: role.organization_id, is_default_role: role.is_default_role,
        created_by: CREATED_BY[role.name] ?? 'ServerApp._add_default_roles (get_default_roles)',
        all_rules: distinct.length === rules.length, rule_count: distinct.length, role_rule_association_rows: rows.length,
        duplicate_association_rows: distinct.filter((id) => rows.filter((r) => r === id).length > 1)
          .map((id) => ({ ...triple(id), count: rows.filter((r) => r === id).length }))
          .sort((a, b) => `${a.name}:${a.scope}:${a.operation}`.localeCompare(`${b.name}:${b.scope}:${b.operation}`)),
        rules: distinct.map(triple),
      };
    }), null, 2)}\n`);
  } finally {
    await client.end();
  }

  const sqlite = path.join(work, 'vantage6.sqlite');
  await firstStart(`sqlite:///${sqlite}`, path.join(work, 'sqlite'));
  writeFileSync(path.join(out, 'schema.sqlite.sql'), execFileSync('sqlite3', [sqlite, '.schema']).toString());
  process.stdout.write(`Wrote the reference data of vantage6 ${release} to ${out}; write its notes.md by hand.\n`);
} finally {
  await scratch.drop();
  rmSync(work, { recursive: true, force: true });
}
