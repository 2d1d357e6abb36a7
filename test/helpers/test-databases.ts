import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { ReferenceRelease } from '../../src/catalog/vantage6-versions.js';
import type { DatabaseAdapter } from '../../src/db/database-adapter.js';
import { parseDatabaseUrl, type DatabaseTarget, type Engine } from '../../src/db/database-url.js';
import { openDatabase } from '../../src/db/open-database.js';
import { openSqlite } from '../../src/db/sqlite/sqlite-driver.js';
import { createScratchPostgres } from './scratch-postgres.js';

const run = promisify(execFile);

/** Where the PostgreSQL tests create their databases; CI sets FEDCTL_REQUIRE_POSTGRES=1 so they cannot skip. */
export const POSTGRES_ADMIN_URL = process.env.FEDCTL_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function postgresProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const problem = await postgresProblem();
if (problem !== null) {
  if (process.env.FEDCTL_REQUIRE_POSTGRES) {
    throw new Error(`PostgreSQL is required (FEDCTL_REQUIRE_POSTGRES) but not reachable at ${POSTGRES_ADMIN_URL}: ${problem}`);
  }
  process.stderr.write(`\n*** PostgreSQL not reachable at ${POSTGRES_ADMIN_URL} (${problem}): PostgreSQL tests are SKIPPED. Set FEDCTL_TEST_POSTGRES_URL to run them. ***\n\n`);
}

/** Engines to run the shared integration test bodies against, with a reason for any that is skipped. */
export const ENGINES: readonly { engine: Engine; skip: string | false }[] = [
  { engine: 'sqlite', skip: false },
  { engine: 'postgres', skip: problem === null ? false : `PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}: ${problem}` },
];

/** A database of its own for one test: a SQLite file in a new folder, or a new PostgreSQL database. */
export interface TestDatabase {
  readonly engine: Engine;
  /** As a user passes it to --database. */
  readonly url: string;
  readonly target: DatabaseTarget;
  /** A folder of the test's own (config, secrets). */
  readonly dir: string;
  open(): Promise<DatabaseAdapter>;
  /** Run SQL as a server or an admin would, outside fedctl. */
  sql(statement: string): Promise<Record<string, unknown>[]>;
  /** Load a reference SQL file the way the server's own tools would (psql for PostgreSQL). */
  loadFile(file: string): Promise<void>;
  drop(): Promise<void>;
}

export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-test-'));
  if (engine === 'sqlite') {
    const file = path.join(dir, 'vantage6.sqlite');
    const url = `sqlite:///${file}`;
    return {
      engine, url, dir,
      target: parseDatabaseUrl(url, dir),
      open: () => openDatabase(parseDatabaseUrl(url, dir), { readonly: false }),
      async sql(statement) {
        const db = openSqlite(file, { readonly: false, busyTimeoutMs: 5_000 });
        try {
          const prepared = db.prepare(statement);
          if (prepared.reader) return prepared.all([]) as Record<string, unknown>[];
          prepared.run([]);
          return [];
        } finally {
          db.close();
        }
      },
      async loadFile(reference) {
        const db = openSqlite(file, { readonly: false, busyTimeoutMs: 5_000 });
        try {
          db.exec(reference);
        } finally {
          db.close();
        }
      },
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const scratch = await createScratchPostgres(POSTGRES_ADMIN_URL, 'fedctl_test');
  const url = scratch.url;
  return {
    engine, url, dir,
    target: parseDatabaseUrl(url, dir),
    open: () => openDatabase(parseDatabaseUrl(url, dir), { readonly: false }),
    async sql(statement) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(statement)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    async loadFile(file) {
      await run('psql', ['--no-psqlrc', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', file]);
    },
    async drop() {
      rmSync(dir, { recursive: true, force: true });
      await scratch.drop();
    },
  };
}

/** The project's copy of a release's reference data (DDL, seed, rules, built-in roles). */
export function referenceDir(release: ReferenceRelease): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), `../../reference/vantage6-${release}`);
}

/** Run `body` on a database of its own, made by `fedctl init`, and drop it afterwards. */
export async function withInitializedDatabase(engine: Engine, body: (db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(engine);
  try {
    const { runCli } = await import('./run-cli.js');
    const init = await runCli(['init', '--database', db.url], { cwd: db.dir });
    if (init.code !== 0) throw new Error(`fedctl init failed: ${init.stderr}`);
    await body(db);
  } finally {
    await db.drop();
  }
}
