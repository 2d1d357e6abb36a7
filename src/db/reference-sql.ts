import { readFileSync } from 'node:fs';
import type { DatabaseRelease } from '../catalog/vantage6-versions.js';
import { packageFile } from '../package-files.js';
import type { Engine } from './database-url.js';

function read(release: DatabaseRelease, name: string): string {
  return readFileSync(packageFile(`reference/vantage6-${release}/${name}`), 'utf8');
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

/** The statements that create a release's tables, as its server's own models create them. */
export function schemaStatements(engine: Engine, release: DatabaseRelease): string[] {
  if (engine === 'sqlite') return statements(read(release, 'schema.sqlite.sql'));
  return statements(read(release, 'schema.postgres.sql')).filter((s) => !isSessionSetting(s));
}

/**
 * The rows a release's server writes at its first start: the rule catalogue, the
 * default roles and their rule links (the seed's INSERTs; on PostgreSQL also
 * the sequence positions).
 */
export function seedStatements(engine: Engine, release: DatabaseRelease): string[] {
  const all = statements(read(release, 'seed.postgres.sql')).filter((s) => !isSessionSetting(s));
  if (engine === 'postgres') return all;
  return all.filter((s) => s.startsWith('INSERT ')).map((s) => s.replace(/^INSERT INTO public\./, 'INSERT INTO '));
}
