import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { openSqlite } from '../../src/db/sqlite/sqlite-driver.js';
import { knownRuleKeys, referenceCatalog } from '../../src/catalog/reference-catalog.js';
import { ruleKey } from '../../src/catalog/rule-catalog.js';
import { KNOWN_COLUMNS, DATABASE_RELEASES } from '../../src/catalog/vantage6-versions.js';
import { schemaNovelties } from '../../src/db/inspect-schema.js';
import { referenceDir } from '../helpers/test-databases.js';

/** A release's tables and columns, as its SQLite DDL makes them. */
function columnsOf(release: (typeof DATABASE_RELEASES)[number]): Map<string, Set<string>> {
  const db = openSqlite(':memory:', { readonly: false, busyTimeoutMs: 0 });
  try {
    db.exec(readFileSync(`${referenceDir(release)}/schema.sqlite.sql`, 'utf8'));
    const rows = db.prepare(`select m.name as t, p.name as c from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table'`).all([]) as { t: string; c: string }[];
    const out = new Map<string, Set<string>>();
    for (const { t, c } of rows) out.set(t, (out.get(t) ?? new Set()).add(c));
    return out;
  } finally {
    db.close();
  }
}

describe('what fedctl knows of vantage6', () => {
  it('knows exactly the tables and columns of every carried release, and their rules', () => {
    const union = new Map<string, Set<string>>();
    for (const release of DATABASE_RELEASES) {
      for (const [table, columns] of columnsOf(release)) union.set(table, new Set([...(union.get(table) ?? []), ...columns]));
      for (const rule of referenceCatalog(release).rules) assert.ok(knownRuleKeys().has(ruleKey(rule)), `${release}: ${ruleKey(rule)}`);
    }
    assert.deepEqual(Object.fromEntries([...union].map(([t, c]) => [t, [...c].sort()]).sort()),
      Object.fromEntries(Object.entries(KNOWN_COLUMNS).map(([t, c]) => [t, [...c].sort()]).sort()));
  });

  it('names a newer release\'s tables and columns, and the inserts a required column would make fail', () => {
    const columns = columnsOf('4.15');
    columns.set('dataframe', new Set(['id']));
    columns.get('user')?.add('tenant_id');
    columns.get('Member')?.add('since');
    columns.get('task')?.add('priority');
    const novelties = schemaNovelties(columns, new Set(['user.tenant_id', 'Member.since', 'task.priority', 'user.id', 'dataframe.id']));
    assert.deepEqual(novelties.tables, ['dataframe']);
    assert.deepEqual(novelties.columns, ['Member.since', 'task.priority', 'user.tenant_id']);
    // task is never written by fedctl; the others are, by these changes.
    assert.deepEqual(novelties.unfillable, [
      { column: 'Member.since', by: [{ kind: 'collaboration', on: 'create' }, { kind: 'collaboration', on: 'link' }] },
      { column: 'user.tenant_id', by: [{ kind: 'user', on: 'create' }] },
    ]);
    assert.deepEqual(schemaNovelties(columnsOf('4.0'), new Set()), { tables: [], columns: [], unfillable: [] });
  });
});
