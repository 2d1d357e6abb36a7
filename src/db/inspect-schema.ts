import { FedctlError } from '../errors.js';
import type { DatabaseAdapter, Vantage6Db } from './database-adapter.js';
import { VANTAGE6_COLUMNS } from './vantage6-tables.js';

/** How a database relates to the vantage6 4.14 schema. */
export type SchemaStatus =
  | { readonly kind: 'empty' }
  | { readonly kind: 'complete' }
  /** Tables, but none of vantage6's. */
  | { readonly kind: 'foreign'; readonly tables: readonly string[] }
  /** Some vantage6 tables or columns are missing. */
  | { readonly kind: 'partial'; readonly missing: readonly string[] };

/** Compare a catalog (table → columns) with the vantage6 schema. Pure. */
export function classifySchema(columns: ReadonlyMap<string, ReadonlySet<string>>): SchemaStatus {
  const expected = Object.entries(VANTAGE6_COLUMNS);
  const present = expected.filter(([table]) => columns.has(table));
  if (present.length === 0) {
    return columns.size === 0 ? { kind: 'empty' } : { kind: 'foreign', tables: [...columns.keys()].sort() };
  }
  const missing: string[] = [];
  for (const [table, tableColumns] of expected) {
    const actual = columns.get(table);
    if (!actual) {
      missing.push(`table ${table}`);
      continue;
    }
    for (const column of tableColumns) if (!actual.has(column)) missing.push(`column ${table}.${column}`);
  }
  return missing.length === 0 ? { kind: 'complete' } : { kind: 'partial', missing };
}

export async function inspectSchema(adapter: DatabaseAdapter, db?: Vantage6Db): Promise<SchemaStatus> {
  const tables = new Map<string, Set<string>>();
  for (const { table_name: table, column_name: column } of await adapter.listColumns(db)) {
    tables.set(table, (tables.get(table) ?? new Set()).add(column));
  }
  return classifySchema(tables);
}

/** The error for a database that is not a complete vantage6 database. */
export function schemaProblem(status: SchemaStatus, display: string): FedctlError | null {
  switch (status.kind) {
    case 'complete':
      return null;
    case 'empty':
    case 'foreign':
      return new FedctlError('DATABASE_NOT_VANTAGE6', `no vantage6 tables in ${display}`,
        '`fedctl init` creates them in an empty database');
    case 'partial':
      return new FedctlError('DATABASE_SCHEMA_INCOMPLETE',
        `${display} has part of the vantage6 4.14 schema; missing: ${status.missing.join(', ')}`,
        'fedctl only works on a complete vantage6 database; start the vantage6 server once to upgrade it, or restore it');
  }
}
