import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import { FedctlError, messageOf } from '../../errors.js';
import { FEDCTL_LOCK_KEY, queryCounter, type CatalogColumn, type DatabaseAdapter, type TransactionOptions, type Vantage6Db } from '../database-adapter.js';
import type { DatabaseTarget } from '../database-url.js';
import type { IdTable, Vantage6Database } from '../vantage6-tables.js';

type PostgresTarget = Extract<DatabaseTarget, { engine: 'postgres' }>;

export class PostgresAdapter implements DatabaseAdapter {
  readonly engine = 'postgres' as const;
  readonly db: Vantage6Db;

  private constructor(readonly target: PostgresTarget, pool: pg.Pool, onQuery?: () => void) {
    this.db = new Kysely<Vantage6Database>({ dialect: new PostgresDialect({ pool }), log: queryCounter(onQuery) });
  }

  /** Connect, turning driver errors into one line without the password. */
  static async open(target: PostgresTarget, onQuery?: () => void): Promise<PostgresAdapter> {
    const pool = new pg.Pool({ connectionString: target.connectionString, max: 1, connectionTimeoutMillis: 10_000 });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      client.release();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new FedctlError('DATABASE_UNREACHABLE', `cannot connect to ${target.display}: ${connectionProblem(error)}`,
        'check the URL, that the server runs and accepts connections, and the credentials');
    }
    return new PostgresAdapter(target, pool, onQuery);
  }

  async listColumns(db: Vantage6Db = this.db): Promise<CatalogColumn[]> {
    const result = await sql<CatalogColumn>`
      select table_name, column_name,
        is_nullable = 'NO' and column_default is null and is_identity = 'NO' and is_generated = 'NEVER' as required
      from information_schema.columns
      where table_schema = current_schema()`.execute(db);
    return result.rows;
  }

  async readSnapshot<T>(work: (db: Vantage6Db) => Promise<T>): Promise<T> {
    return this.inTransaction(sql`begin isolation level repeatable read read only`, work);
  }

  async writeTransaction<T>(work: (trx: Vantage6Db) => Promise<T>, options: TransactionOptions): Promise<T> {
    return this.inTransaction(sql`begin`, async (connection) => {
      await sql.raw(`set local lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs))}`).execute(connection);
      try {
        await sql`select pg_advisory_xact_lock(${FEDCTL_LOCK_KEY.toString()}::bigint)`.execute(connection);
      } catch (error) {
        if ((error as { code?: string }).code === '55P03') {
          throw new FedctlError('APPLY_FAILED', `another fedctl run holds the lock on ${this.target.display}`,
            'wait for it to finish, or raise --lock-timeout');
        }
        throw error;
      }
      await sql`set local lock_timeout = 0`.execute(connection);
      return work(connection);
    });
  }

  /** One pooled connection for the whole transaction; committed when `work` resolves. */
  private async inTransaction<T>(begin: RawBuilder<unknown>, work: (db: Vantage6Db) => Promise<T>): Promise<T> {
    return this.db.connection().execute(async (connection) => {
      await begin.execute(connection);
      try {
        const result = await work(connection);
        await commit(connection, this.target.display);
        return result;
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => undefined);
        throw error;
      }
    });
  }

  async allocateIds(trx: Vantage6Db, table: IdTable, count: number): Promise<number[]> {
    if (count === 0) return [];
    const rows = await sql<{ id: number }>`
      select nextval(pg_get_serial_sequence(${`public.${table}`}, 'id'))::integer as id
      from generate_series(1, ${count})`.execute(trx);
    return rows.rows.map((row) => row.id);
  }

  async executeStatements(trx: Vantage6Db, statements: readonly string[]): Promise<void> {
    for (const statement of statements) await sql.raw(statement).execute(trx);
  }

  toBoolean(value: boolean): boolean {
    return value;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * COMMIT. A server that answers with an error has rolled back; a connection
 * lost before the answer leaves the outcome unknown, which is said as such.
 */
async function commit(db: Vantage6Db, display: string): Promise<void> {
  try {
    await sql`commit`.execute(db);
  } catch (error) {
    if (/^[0-9A-Z]{5}$/.test(String((error as { code?: unknown }).code))) throw error;
    throw new FedctlError('COMMIT_UNKNOWN', `the commit to ${display} failed (${messageOf(error).split('\n')[0]}); whether the changes were saved is unknown`,
      'run fedctl plan to see the state; the secrets file keeps every key written for it', { cause: error });
  }
}

function connectionProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code === '3D000') return 'the database does not exist';
  if (code === '28P01' || code === '28000') return 'authentication failed';
  return messageOf(error).split('\n')[0] ?? 'unknown error';
}
