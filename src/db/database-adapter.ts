import type { Kysely, LogConfig } from 'kysely';
import type { DatabaseTarget, Engine } from './database-url.js';
import type { IdTable, Vantage6Database } from './vantage6-tables.js';

export type Vantage6Db = Kysely<Vantage6Database>;

/** One column of one table in the database's catalog. */
export interface CatalogColumn {
  readonly table_name: string;
  readonly column_name: string;
  /** NOT NULL without a default (nor a serial, identity or rowid): an INSERT must name it. */
  readonly required: boolean;
}

export interface TransactionOptions {
  /** How long to wait for another fedctl run's lock before giving up. */
  readonly lockTimeoutMs: number;
}

/**
 * What differs between PostgreSQL and SQLite, in one place. Everything else
 * (reading state, writing changes) is engine-neutral Kysely code.
 */
export interface DatabaseAdapter {
  readonly engine: Engine;
  readonly target: DatabaseTarget;
  readonly db: Vantage6Db;
  /** Every column of every table, as the database's catalog has them (read through `db` when given). */
  listColumns(db?: Vantage6Db): Promise<CatalogColumn[]>;
  /** Run `work` in one consistent read-only snapshot. */
  readSnapshot<T>(work: (db: Vantage6Db) => Promise<T>): Promise<T>;
  /**
   * Run `work` in one read-write transaction, serialized against other fedctl
   * runs; committed when `work` resolves, rolled back when it throws.
   */
  writeTransaction<T>(work: (trx: Vantage6Db) => Promise<T>, options: TransactionOptions): Promise<T>;
  /** Reserve `count` new ids of a table inside a write transaction. */
  allocateIds(trx: Vantage6Db, table: IdTable, count: number): Promise<number[]>;
  /** Run raw statements (the reference DDL and seed) inside a write transaction. */
  executeStatements(trx: Vantage6Db, statements: readonly string[]): Promise<void>;
  /** A boolean as the engine stores it. */
  toBoolean(value: boolean): boolean | number;
  close(): Promise<void>;
}

/** Kysely's log hook, counting statements for whoever asks. */
export function queryCounter(onQuery: (() => void) | undefined): LogConfig | undefined {
  return onQuery === undefined ? undefined : (event) => {
    if (event.level === 'query') onQuery();
  };
}

/** `fedctl` in ASCII: the advisory lock every fedctl run on PostgreSQL takes. */
export const FEDCTL_LOCK_KEY = 0x66656463746cn;
