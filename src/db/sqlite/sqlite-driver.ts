import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { FedctlError, messageOf } from '../../errors.js';
import { packageFile } from '../../package-files.js';

/** Which driver a connection runs on: Node.js's own SQLite, or better-sqlite3 where Node.js has none. */
export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3';

/** A SQLite connection as Kysely's dialect drives it, and as fedctl and its tests use it beside Kysely. */
export interface SqliteConnection extends SqliteDatabase {
  prepare(sql: string): SqliteStatement & { get(parameters?: readonly unknown[]): unknown };
  exec(sql: string): void;
  /** Inside a transaction that has not ended. */
  readonly inTransaction: boolean;
}

export interface SqliteOpenOptions {
  /** Never create the file nor anything beside it, never write. */
  readonly readonly: boolean;
  /** How long a write waits for another writer's lock. */
  readonly busyTimeoutMs: number;
}

type SqliteValue = null | number | bigint | string | NodeJS.ArrayBufferView;

/** What fedctl uses of node:sqlite (the project's @types/node is Node 20's, which has none). */
interface NodeSqlite {
  DatabaseSync: new (file: string, options: { readOnly: boolean; timeout: number }) => {
    readonly isTransaction: boolean;
    prepare(sql: string): {
      columns?: () => readonly unknown[];
      all(...parameters: SqliteValue[]): unknown[];
      get(...parameters: SqliteValue[]): unknown;
      run(...parameters: SqliteValue[]): { changes: number | bigint; lastInsertRowid: number | bigint };
      iterate(...parameters: SqliteValue[]): IterableIterator<unknown>;
    };
    exec(sql: string): void;
    close(): void;
  };
}
type BetterSqlite = typeof import('better-sqlite3');

const requireModule = createRequire(import.meta.url);

/** node:sqlite, where Node.js has it without a flag (22.13 and later, 24); its experimental warning on 22 is not the user's concern. */
function nodeSqlite(): NodeSqlite | null {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(typeof warning === 'string' ? warning : warning.message).includes('SQLite')) return;
    (emit as (w: string | Error, ...r: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return requireModule('node:sqlite') as NodeSqlite;
  } catch {
    return null;
  } finally {
    process.emitWarning = emit;
  }
}

let chosen: { name: 'node:sqlite'; module: NodeSqlite } | { name: 'better-sqlite3'; module: BetterSqlite } | undefined;

/**
 * The driver for this Node.js: its own SQLite where it has one, else
 * better-sqlite3, installed beside fedctl; `FEDCTL_SQLITE_DRIVER` chooses
 * one (the benchmark compares them so).
 */
function driver(): NonNullable<typeof chosen> {
  if (chosen !== undefined) return chosen;
  const wanted = process.env.FEDCTL_SQLITE_DRIVER;
  if (wanted !== undefined && wanted !== '' && wanted !== 'node:sqlite' && wanted !== 'better-sqlite3') {
    throw new FedctlError('CONFIG_INVALID', `FEDCTL_SQLITE_DRIVER=${wanted}: unknown SQLite driver`, 'use node:sqlite or better-sqlite3, or leave it unset');
  }
  const builtIn = wanted === 'better-sqlite3' ? null : nodeSqlite();
  if (builtIn !== null) return (chosen = { name: 'node:sqlite', module: builtIn });
  if (wanted === 'node:sqlite') {
    throw new FedctlError('NODE_INCOMPATIBLE', `FEDCTL_SQLITE_DRIVER=node:sqlite, but Node.js ${process.version} has no SQLite of its own`, 'run fedctl with Node.js 22.13 or later, or leave FEDCTL_SQLITE_DRIVER unset');
  }
  try {
    return (chosen = { name: 'better-sqlite3', module: requireModule('better-sqlite3') as BetterSqlite });
  } catch (error) {
    throw driverFault(error) ?? new FedctlError('NODE_INCOMPATIBLE',
      `Node.js ${process.version} has no SQLite of its own, and better-sqlite3 is not installed beside fedctl`,
      'run fedctl with Node.js 22.13 or later (its SQLite is built in), or install better-sqlite3 beside fedctl: npm install --global better-sqlite3',
      { cause: error });
  }
}

/**
 * better-sqlite3 is compiled for one Node.js ABI when installed: under
 * another Node.js it cannot load, or was never built (installed with npm's
 * --ignore-scripts). Say so and how to fix it, instead of blaming the file.
 */
function driverFault(error: unknown): FedctlError | null {
  const message = messageOf(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'ERR_DLOPEN_FAILED' && !message.includes('NODE_MODULE_VERSION') && !message.includes('bindings file')) return null;
  const built = /using\s+NODE_MODULE_VERSION (\d+)/.exec(message)?.[1];
  return new FedctlError('NODE_INCOMPATIBLE',
    `the SQLite driver (better-sqlite3) was ${message.includes('bindings file') ? 'never built' : `built for another Node.js${built ? ` (NODE_MODULE_VERSION ${built})` : ''}`} and cannot load in Node.js ${process.version} (NODE_MODULE_VERSION ${process.versions.modules})`,
    `rebuild it with this Node.js: run "npm rebuild better-sqlite3" in ${path.dirname(fileURLToPath(packageFile('package.json')))} (or install fedctl again), or run fedctl with Node.js 22.13 or later, whose SQLite is built in`,
    { cause: error });
}

/** Whether a statement returns rows, where node:sqlite cannot say (before 22.16): what SQLite's own API would tell. */
const READS = /^\s*(select|pragma|with|values|explain)\b|\breturning\b/i;

const plain = (row: unknown): unknown => ({ ...(row as object) });

/** node:sqlite's connection in better-sqlite3's shape, the one Kysely's dialect drives: parameters as one array. */
function wrapNodeSqlite(db: InstanceType<NodeSqlite['DatabaseSync']>): SqliteConnection {
  const values = (parameters: readonly unknown[] = []): SqliteValue[] => parameters as SqliteValue[];
  return {
    get inTransaction() {
      return db.isTransaction;
    },
    prepare(sql) {
      const statement = db.prepare(sql);
      const reader = typeof statement.columns === 'function' ? statement.columns().length > 0 : READS.test(sql);
      return {
        reader,
        // Its rows have no prototype; better-sqlite3's, like every other driver's, are plain objects.
        all: (parameters) => statement.all(...values(parameters)).map(plain),
        get: (parameters) => {
          const row = statement.get(...values(parameters));
          return row === undefined ? undefined : plain(row);
        },
        run: (parameters) => statement.run(...values(parameters)),
        iterate: function* (parameters) {
          for (const row of statement.iterate(...values(parameters))) yield plain(row);
        },
      };
    },
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
  };
}

/** Open a SQLite file with the driver of this Node.js. */
export function openSqlite(file: string, options: SqliteOpenOptions): SqliteConnection {
  const chosenDriver = driver();
  try {
    if (chosenDriver.name === 'node:sqlite') {
      const db = new chosenDriver.module.DatabaseSync(file, { readOnly: options.readonly, timeout: options.busyTimeoutMs });
      return wrapNodeSqlite(db);
    }
    const db = new chosenDriver.module(file, { readonly: options.readonly, fileMustExist: options.readonly, timeout: options.busyTimeoutMs });
    return db as unknown as SqliteConnection;
  } catch (error) {
    throw driverFault(error) ?? error;
  }
}

/** Load the SQLite driver now, so that one that cannot load is found before a plan is shown, not at apply. */
export function checkSqliteDriver(): void {
  openSqlite(':memory:', { readonly: false, busyTimeoutMs: 0 }).close();
}
