import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestDatabase } from './test-databases.js';

export const EXAMPLE_CONFIG = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../examples/federation.yaml');

export function exampleText(): string {
  return readFileSync(EXAMPLE_CONFIG, 'utf8');
}

/** The example federation as vantage6 5 (HQ) takes it. */
export function hqExampleText(): string {
  return readFileSync(path.join(path.dirname(EXAMPLE_CONFIG), 'federation-hq.yaml'), 'utf8');
}

/** The example federation, without what a release lacks: its study and the study rules of a role. */
export function exampleFor(studies: boolean): string {
  if (studies) return exampleText();
  const text = exampleText()
    .replace('      - resource: study\n        scope: collaboration\n        operation: all\n', '')
    .replace(/\nstudies:\n[\s\S]*$/, '\n');
  assert.doesNotMatch(text, /study/);
  return text;
}


/**
 * The example configs and identities, copied into a test's folder: only the
 * files the repository holds, never what the README's commands leave beside
 * them (secrets files, encrypted records, databases).
 */
export function copyExamples(dir: string): { federation: string; encrypted: string; identity: (name: string) => string } {
  const examples = path.dirname(EXAMPLE_CONFIG);
  const into = path.join(dir, 'examples');
  mkdirSync(path.join(into, 'identities'), { recursive: true });
  for (const file of ['federation.yaml', 'encrypted.yaml']) cpSync(path.join(examples, file), path.join(into, file));
  for (const file of readdirSync(path.join(examples, 'identities')).filter((name) => name.endsWith('.example-key.txt'))) {
    cpSync(path.join(examples, 'identities', file), path.join(into, 'identities', file));
  }
  return {
    federation: path.join(into, 'federation.yaml'),
    encrypted: path.join(into, 'encrypted.yaml'),
    identity: (name) => path.join(into, 'identities', `${name}.example-key.txt`),
  };
}

/** Write a config into the test's folder; returns its path. */
export function writeConfig(db: { dir: string }, text: string, name = 'federation.yaml'): string {
  const file = path.join(db.dir, name);
  writeFileSync(file, text);
  return file;
}

/** The tables and columns of a test database, as its catalog lists them. */
export async function tableColumns(db: TestDatabase): Promise<Record<string, string[]>> {
  const rows = await db.sql(db.engine === 'sqlite'
    ? `select m.name as tbl, p.name as col from sqlite_master m join pragma_table_info(m.name) p
       where m.type = 'table' and m.name not like 'sqlite_%' order by m.name, p.cid`
    : `select table_name as tbl, column_name as col from information_schema.columns
       where table_schema = current_schema() order by table_name, ordinal_position`);
  const out: Record<string, string[]> = {};
  for (const row of rows) (out[String(row.tbl)] ??= []).push(String(row.col));
  return out;
}

/** Every row of every table, in a stable order: equal snapshots mean an unchanged database. */
export async function snapshot(db: TestDatabase): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, columns] of Object.entries(await tableColumns(db))) {
    const quoted = columns.map((c) => `"${c}"`).join(', ');
    const rows = await db.sql(`select ${quoted} from "${table}" order by ${columns.map((_, i) => i + 1).join(', ')}`);
    out[table] = rows.map((row) => JSON.parse(JSON.stringify(row)));
  }
  return out;
}

/** The process id of a process that ran and ended: what a killed fedctl leaves in its temporary files' names. */
export function pidThatIsGone(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid;
}
