import { sql, type Insertable, type RawBuilder } from 'kysely';
import type { Vantage6Db } from '../../db/database-adapter.js';
import type { Vantage6Database } from '../../db/vantage6-tables.js';

/** Rows per statement: well under SQLite's 32,766 bound parameters for our widest rows. */
export const BATCH_SIZE = 500;

type Table = keyof Vantage6Database;
type Value = string | number | boolean | null;

/**
 * Columns whose parameters need a cast inside VALUES: PostgreSQL types
 * untyped parameters there as text. SQLite takes the same casts.
 */
const CASTS: Readonly<Record<string, 'INTEGER' | 'BOOLEAN'>> = {
  id: 'INTEGER', organization_id: 'INTEGER', collaboration_id: 'INTEGER', role_id: 'INTEGER', rule_id: 'INTEGER',
  user_id: 'INTEGER', study_id: 'INTEGER', encrypted: 'BOOLEAN',
};

function column(index: number, name: string): RawBuilder<unknown> {
  const cast = Object.hasOwn(CASTS, name) ? CASTS[name] : undefined;
  const raw = sql.raw(`column${index + 1}`);
  return cast ? sql`CAST(${raw} AS ${sql.raw(cast)}) AS ${sql.ref(name)}` : sql`${raw} AS ${sql.ref(name)}`;
}

/** `(SELECT CAST(column1 AS INTEGER) AS id, … FROM (VALUES (…), (…)) AS vals)`: rows as a named, typed relation. */
function valuesRelation(names: readonly string[], rows: readonly (readonly Value[])[]): RawBuilder<unknown> {
  const tuples = rows.map((row) => sql`(${sql.join(row.map((value) => sql`${value}`))})`);
  return sql`(SELECT ${sql.join(names.map((name, i) => column(i, name)))} FROM (VALUES ${sql.join(tuples)}) AS vals)`;
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += BATCH_SIZE) out.push(items.slice(i, i + BATCH_SIZE));
  return out;
}

/**
 * Writes collected while a kind's changes are turned into rows, then run
 * set-based: one UPDATE … FROM (VALUES …) per set of changed columns, one
 * DELETE … WHERE (a, b) IN (VALUES …) per link table, one multi-row INSERT
 * per link table. Statements grow with batches, not rows.
 */
export class BatchedWrites {
  private readonly updates = new Map<Table, Map<string, { id: number; values: Record<string, Value> }[]>>();
  private readonly unlinks = new Map<Table, { owner: string; target: string; pairs: [number, number][] }>();
  private readonly links = new Map<Table, Insertable<Vantage6Database[Table]>[]>();

  constructor(private readonly trx: Vantage6Db) {}

  update(table: Table, id: number, values: Record<string, Value | undefined>): void {
    const set = Object.fromEntries(Object.entries(values).filter((entry): entry is [string, Value] => entry[1] !== undefined));
    const columns = Object.keys(set).sort();
    if (columns.length === 0) return;
    const byColumns = this.updates.get(table) ?? new Map();
    const signature = columns.join(',');
    byColumns.set(signature, [...(byColumns.get(signature) ?? []), { id, values: set }]);
    this.updates.set(table, byColumns);
  }

  /** Remove the links from `owner` to each of `targets`, duplicates included. */
  unlink(table: Table, ownerColumn: string, owner: number, targetColumn: string, targets: readonly number[]): void {
    if (targets.length === 0) return;
    const entry = this.unlinks.get(table) ?? { owner: ownerColumn, target: targetColumn, pairs: [] };
    entry.pairs.push(...targets.map((target): [number, number] => [owner, target]));
    this.unlinks.set(table, entry);
  }

  link<T extends Table>(table: T, rows: readonly Insertable<Vantage6Database[T]>[]): void {
    if (rows.length === 0) return;
    this.links.set(table, [...(this.links.get(table) ?? []), ...(rows as Insertable<Vantage6Database[Table]>[])]);
  }

  /** Run what was collected: updates, then removed links, then added links. */
  async flush(): Promise<void> {
    for (const [table, byColumns] of this.updates) {
      for (const [signature, rows] of byColumns) {
        const columns = signature.split(',');
        for (const batch of chunks(rows)) {
          const relation = valuesRelation(['id', ...columns], batch.map((row) => [row.id, ...columns.map((c) => row.values[c] ?? null)]));
          await sql`UPDATE ${sql.table(table)} SET ${sql.join(columns.map((c) => sql`${sql.ref(c)} = ${sql.ref(`v.${c}`)}`))}
            FROM ${relation} AS v WHERE ${sql.ref(`${table}.id`)} = ${sql.ref('v.id')}`.execute(this.trx);
        }
      }
    }
    for (const [table, { owner, target, pairs }] of this.unlinks) {
      for (const batch of chunks(pairs)) {
        await sql`DELETE FROM ${sql.table(table)} WHERE (${sql.ref(owner)}, ${sql.ref(target)}) IN ${valuesRelation([owner, target], batch)}`.execute(this.trx);
      }
    }
    for (const [table, rows] of this.links) {
      for (const batch of chunks(rows)) await this.trx.insertInto(table).values(batch as never).execute();
    }
    this.updates.clear();
    this.unlinks.clear();
    this.links.clear();
  }
}
