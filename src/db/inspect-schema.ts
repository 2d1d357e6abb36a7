import { FEATURES, KNOWN_COLUMNS, type Feature, type SchemaFeatures } from '../catalog/vantage6-versions.js';
import { FedctlError } from '../errors.js';
import { compareStrings } from '../federation.js';
import type { DatabaseAdapter, Vantage6Db } from './database-adapter.js';
import { HISTORY_TABLE, INSERTED, REQUIRED_COLUMNS, type TableWriter } from './vantage6-tables.js';

/** The database's catalog: table → columns. */
export type SchemaColumns = ReadonlyMap<string, ReadonlySet<string>>;

/** What a database has that no vantage6 release fedctl knows has. */
export interface SchemaNovelties {
  readonly tables: readonly string[];
  /** `table.column`, in tables fedctl knows. */
  readonly columns: readonly string[];
  /**
   * Columns that must be given a value (NOT NULL without a default) that
   * fedctl's INSERTs do not name, with the changes that would insert there:
   * those changes would fail.
   */
  readonly unfillable: readonly { readonly column: string; readonly by: readonly TableWriter[] }[];
}

/** A vantage6 database of some 4.x release, as its catalog shows it. */
export interface Vantage6Schema {
  readonly columns: SchemaColumns;
  readonly features: SchemaFeatures;
  readonly novelties: SchemaNovelties;
}

/**
 * Compare a catalog with what fedctl knows. Pure. `mustBeNamed` holds the
 * `table.column` of the columns an INSERT must name.
 */
export function schemaNovelties(columns: SchemaColumns, mustBeNamed: ReadonlySet<string>): SchemaNovelties {
  const tables: string[] = [];
  const unknown: string[] = [];
  for (const [table, names] of columns) {
    const known = KNOWN_COLUMNS[table];
    if (known === undefined) {
      if (table !== HISTORY_TABLE) tables.push(table);
      continue;
    }
    for (const name of names) if (!known.includes(name)) unknown.push(`${table}.${name}`);
  }
  const unfillable = Object.entries(INSERTED).flatMap(([table, { columns: named, by }]) =>
    [...(columns.get(table) ?? [])].filter((name) => mustBeNamed.has(`${table}.${name}`) && !named.includes(name)).map((name) => ({ column: `${table}.${name}`, by })));
  return { tables: tables.sort(compareStrings), columns: unknown.sort(compareStrings), unfillable };
}

/** How a database relates to vantage6. */
export type SchemaStatus =
  | { readonly kind: 'empty' }
  /** Everything fedctl reads and writes for the features the database has. */
  | { readonly kind: 'vantage6'; readonly schema: Vantage6Schema }
  /** Tables, but none of vantage6's. */
  | { readonly kind: 'foreign'; readonly tables: readonly string[] }
  /** Some tables or columns fedctl needs are missing. */
  | { readonly kind: 'partial'; readonly missing: readonly string[] };

/**
 * Compare a catalog with what fedctl needs. Pure. A feature (studies, …) is
 * there when any of its tables or columns is; then all of them must be.
 */
export function classifySchema(columns: SchemaColumns, mustBeNamed: ReadonlySet<string> = new Set()): SchemaStatus {
  const required = Object.entries(REQUIRED_COLUMNS);
  if (!required.some(([table]) => columns.has(table))) {
    return columns.size === 0 ? { kind: 'empty' } : { kind: 'foreign', tables: [...columns.keys()].sort() };
  }
  const missing: string[] = [];
  const check = (table: string, tableColumns: readonly string[]): void => {
    const actual = columns.get(table);
    if (!actual) missing.push(`table ${table}`);
    else for (const column of tableColumns) if (!actual.has(column)) missing.push(`column ${table}.${column}`);
  };
  for (const [table, tableColumns] of required) check(table, tableColumns);
  const features = {} as Record<Feature, boolean>;
  for (const [feature, { columns: featureColumns }] of Object.entries(FEATURES) as [Feature, (typeof FEATURES)[Feature]][]) {
    const parts = Object.entries(featureColumns);
    features[feature] = parts.some(([table, names]) => names.some((name) => columns.get(table)?.has(name)));
    if (features[feature]) for (const [table, names] of parts) check(table, names);
  }
  return missing.length === 0 ? { kind: 'vantage6', schema: { columns, features, novelties: schemaNovelties(columns, mustBeNamed) } } : { kind: 'partial', missing };
}

export async function inspectSchema(adapter: DatabaseAdapter, db?: Vantage6Db): Promise<SchemaStatus> {
  const tables = new Map<string, Set<string>>();
  const required = new Set<string>();
  for (const { table_name: table, column_name: column, required: mustBeNamed } of await adapter.listColumns(db)) {
    tables.set(table, (tables.get(table) ?? new Set()).add(column));
    if (mustBeNamed) required.add(`${table}.${column}`);
  }
  return classifySchema(tables, required);
}

/** The schema of a vantage6 database, or the error that says why this database is not one fedctl can work on. */
export function requireVantage6(status: SchemaStatus, display: string): Vantage6Schema {
  switch (status.kind) {
    case 'vantage6':
      return status.schema;
    case 'empty':
    case 'foreign':
      throw new FedctlError('DATABASE_NOT_VANTAGE6', `no vantage6 tables in ${display}`,
        '`fedctl init` creates them in an empty database');
    case 'partial':
      throw new FedctlError('DATABASE_SCHEMA_INCOMPLETE',
        `${display} is not a complete vantage6 4.x database; missing: ${status.missing.join(', ')}`,
        'fedctl needs these in every vantage6 release that has them. A vantage6 server creates missing tables and columns '
        + 'when it starts: start the server version this database belongs to once, or restore a backup');
  }
}
