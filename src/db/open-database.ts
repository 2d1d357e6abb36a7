import { existsSync } from 'node:fs';
import type { DatabaseAdapter } from './database-adapter.js';
import type { DatabaseTarget } from './database-url.js';

export interface OpenOptions {
  /** Never write, never create a file. */
  readonly readonly: boolean;
  readonly lockTimeoutMs?: number;
  /** Called for every SQL statement run (the benchmark counts them). */
  readonly onQuery?: () => void;
}

/** Whether the target certainly has no database yet (a SQLite file that does not exist). */
export function databaseIsAbsent(target: DatabaseTarget): boolean {
  return target.engine === 'sqlite' && !existsSync(target.file);
}

/** Connect to the database; each driver is loaded only when it is used, so validate stays fast. */
export async function openDatabase(target: DatabaseTarget, options: OpenOptions): Promise<DatabaseAdapter> {
  if (target.engine === 'postgres') {
    const { PostgresAdapter } = await import('./postgres/postgres-adapter.js');
    return PostgresAdapter.open(target, options.onQuery);
  }
  const { SqliteAdapter } = await import('./sqlite/sqlite-adapter.js');
  return SqliteAdapter.open(target, { readonly: options.readonly, busyTimeoutMs: options.lockTimeoutMs, onQuery: options.onQuery });
}

/** Whether the target's driver can load in this Node.js; better-sqlite3, where Node.js has no SQLite of its own, is native (see `checkSqliteDriver`). */
export async function checkDriver(target: DatabaseTarget): Promise<void> {
  if (target.engine !== 'sqlite') return;
  const { checkSqliteDriver } = await import('./sqlite/sqlite-driver.js');
  checkSqliteDriver();
}
