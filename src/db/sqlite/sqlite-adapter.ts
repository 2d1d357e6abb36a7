import { Kysely, SqliteDialect, sql } from 'kysely';
import { FedctlError, messageOf } from '../../errors.js';
import { openSqlite, type SqliteConnection } from './sqlite-driver.js';
import { queryCounter, type CatalogColumn, type DatabaseAdapter, type TransactionOptions, type Vantage6Db } from '../database-adapter.js';
import type { DatabaseTarget } from '../database-url.js';
import type { IdTable, Vantage6Database } from '../vantage6-tables.js';

type SqliteTarget = Extract<DatabaseTarget, { engine: 'sqlite' }>;

export class SqliteAdapter implements DatabaseAdapter {
  readonly engine = 'sqlite' as const;
  readonly db: Vantage6Db;

  private constructor(readonly target: SqliteTarget, private readonly connection: SqliteConnection, onQuery?: () => void) {
    this.db = new Kysely<Vantage6Database>({ dialect: new SqliteDialect({ database: connection }), log: queryCounter(onQuery) });
  }

  /**
   * Open the file; `readonly` never creates it nor anything beside it. The
   * busy timeout is how long a write waits for another fedctl run.
   */
  static open(target: SqliteTarget, options: { readonly: boolean; busyTimeoutMs?: number; onQuery?: () => void }): SqliteAdapter {
    let connection: SqliteConnection;
    try {
      connection = openSqlite(target.file, { readonly: options.readonly, busyTimeoutMs: options.busyTimeoutMs ?? 5_000 });
    } catch (error) {
      if (error instanceof FedctlError) throw error;
      throw new FedctlError('DATABASE_UNREACHABLE', `cannot open ${target.display}: ${messageOf(error)}`,
        'check that the file exists, is a SQLite database and can be read');
    }
    // vantage6 never turns foreign keys on for SQLite; neither do we, so both see the same database.
    connection.exec('pragma foreign_keys = OFF');
    connection.exec(`pragma busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 5_000))}`);
    return new SqliteAdapter(target, connection, options.onQuery);
  }

  async listColumns(db: Vantage6Db = this.db): Promise<CatalogColumn[]> {
    // A primary key takes the rowid (INTEGER) or is named by every insert anyway.
    const result = await sql<Omit<CatalogColumn, 'required'> & { required: number }>`
      select m.name as table_name, p.name as column_name, p."notnull" = 1 and p.dflt_value is null and p.pk = 0 as required
      from sqlite_master m join pragma_table_info(m.name) p
      where m.type = 'table' and m.name not like 'sqlite_%'`.execute(db);
    return result.rows.map((row) => ({ ...row, required: row.required === 1 }));
  }

  async readSnapshot<T>(work: (db: Vantage6Db) => Promise<T>): Promise<T> {
    return this.run('begin deferred', work);
  }

  async writeTransaction<T>(work: (trx: Vantage6Db) => Promise<T>, options: TransactionOptions): Promise<T> {
    this.connection.exec(`pragma busy_timeout = ${Math.max(0, Math.round(options.lockTimeoutMs))}`);
    return this.run('begin immediate', work);
  }

  /** The dialect has one connection, so `connection()` holds it for the whole transaction. */
  private async run<T>(begin: string, work: (db: Vantage6Db) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (connection) => {
      try {
        await sql.raw(begin).execute(connection);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_BUSY') {
          throw new FedctlError('APPLY_FAILED', `another process holds the lock on ${this.target.display}`,
            'wait for it to finish, or raise --lock-timeout');
        }
        throw error;
      }
      try {
        const result = await work(connection);
        await sql`commit`.execute(connection);
        return result;
      } catch (error) {
        if (this.connection.inTransaction) await sql`rollback`.execute(connection);
        throw error;
      }
    });
  }

  async allocateIds(trx: Vantage6Db, table: IdTable, count: number): Promise<number[]> {
    if (count === 0) return [];
    // The write lock of BEGIN IMMEDIATE is held, so nobody else can take these ids.
    const row = await trx.selectFrom(table).select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
    const start = Number(row?.max ?? 0) + 1;
    return Array.from({ length: count }, (_, index) => start + index);
  }

  async executeStatements(trx: Vantage6Db, statements: readonly string[]): Promise<void> {
    for (const statement of statements) await sql.raw(statement).execute(trx);
  }

  toBoolean(value: boolean): number {
    return value ? 1 : 0;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
