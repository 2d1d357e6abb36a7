import { Option, type Command } from 'commander';
import type { DatabaseOptions } from '../db/resolve-database.js';

export interface DatabaseFlags extends DatabaseOptions {
  readonly lockTimeout: number;
}

export const DATABASE_HELP = `
Database (first that is given):
  --database URL             e.g. postgresql://user:password@db.example.org:5432/vantage6
                                  postgresql+psycopg2://user:password@localhost/vantage6
                                  sqlite:///relative/path.sqlite
                                  sqlite:////absolute/path.sqlite
  FEDCTL_DATABASE_URL        the same, from the environment
  --server-config FILE       a vantage6 server config; its "uri" (VANTAGE6_DB_URI overrides it)
  (default)                  sqlite:///federation.sqlite in the working directory`;

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`not a number of seconds: ${value}`);
  return parsed;
}

/** The database options every database-reading command shares. */
export function addDatabaseOptions(command: Command): Command {
  return command
    .addOption(new Option('--database <url>', 'database URL (see below)'))
    .addOption(new Option('--server-config <file>', 'vantage6 server config file whose uri names the database'))
    .addOption(new Option('--lock-timeout <seconds>', 'how long to wait for another fedctl run').default(30).argParser(seconds))
    .addHelpText('after', DATABASE_HELP);
}
