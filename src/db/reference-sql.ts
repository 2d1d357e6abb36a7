import { readFileSync } from 'node:fs';
import type { Engine } from './database-url.js';

const REFERENCE_DIR = new URL('../../reference/vantage6-4.14/', import.meta.url);

function read(name: string): string {
  return readFileSync(new URL(name, REFERENCE_DIR), 'utf8');
}

/** Split a dump into statements: they end with `;` at the end of a line, none of ours contains one inside. */
function statements(script: string): string[] {
  return script
    .split('\n')
    .filter((line) => !line.startsWith('--') && !line.startsWith('\\'))
    .join('\n')
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}

/** Session settings of pg_dump (search_path = '' among them) that must not leak into our connection. */
const isSessionSetting = (statement: string): boolean =>
  statement.startsWith('SET ') || statement.startsWith('SELECT pg_catalog.set_config');

/** The statements that create the vantage6 4.14 tables, as the server's own models create them. */
export function schemaStatements(engine: Engine): string[] {
  if (engine === 'sqlite') return statements(read('schema.sqlite.sql'));
  return statements(read('schema.postgres.sql')).filter((s) => !isSessionSetting(s));
}

/**
 * The rows a server writes at its first start: the rule catalogue, the
 * default roles and their rule links (the seed's INSERTs; on PostgreSQL also
 * the sequence positions).
 */
export function seedStatements(engine: Engine): string[] {
  const all = statements(read('seed.postgres.sql')).filter((s) => !isSessionSetting(s));
  if (engine === 'postgres') return all;
  return all.filter((s) => s.startsWith('INSERT ')).map((s) => s.replace(/^INSERT INTO public\./, 'INSERT INTO '));
}
