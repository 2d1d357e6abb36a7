import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { VANTAGE6_COLUMNS } from '../../src/db/vantage6-tables.js';
import type { TestDatabase } from './test-databases.js';

export const EXAMPLE_CONFIG = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples/federation.yaml');

export function exampleText(): string {
  return readFileSync(EXAMPLE_CONFIG, 'utf8');
}

/** Write a config into the test's folder; returns its path. */
export function writeConfig(db: { dir: string }, text: string, name = 'federation.yaml'): string {
  const file = path.join(db.dir, name);
  writeFileSync(file, text);
  return file;
}

/** Every row of every vantage6 table, in a stable order: equal snapshots mean an unchanged database. */
export async function snapshot(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, columns] of Object.entries(VANTAGE6_COLUMNS)) {
    const quoted = columns.map((c) => `"${c}"`).join(', ');
    const rows = await db.sql(`select ${quoted} from "${table}" order by ${columns.map((_, i) => i + 1).join(', ')}`);
    out[table] = rows.map((row) => JSON.parse(JSON.stringify(row)));
  }
  return out;
}
