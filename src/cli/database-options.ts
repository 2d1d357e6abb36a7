import { Option, type Command } from 'commander';
import type { BackendOptions } from '../backends/open-backend.js';

/** Where the server is, and how long to wait for another fedctl run. */
export interface DatabaseFlags extends BackendOptions {
  readonly lockTimeout: number;
}

export const DATABASE_HELP = `
Where the server is (first that is given):
  --database URL             its database, e.g. postgresql://user:password@db.example.org:5432/vantage6
                                  postgresql+psycopg2://user:password@localhost/vantage6
                                  sqlite:///relative/path.sqlite
                                  sqlite:////absolute/path.sqlite
  --server URL               or its REST API, e.g. https://v6.example.org/api, with an account from
                             FEDCTL_API_USERNAME and FEDCTL_API_PASSWORD
  FEDCTL_DATABASE_URL        the database, from the environment
  FEDCTL_SERVER_URL          the API, from the environment
  --server-config FILE       a vantage6 server config; its "uri" (VANTAGE6_DB_URI overrides it)
  server: { manage: api }    in the config: its API at server.url
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
    .addOption(new Option('--server <url>', 'the server\'s REST API URL instead of its database (see below)'))
    .addOption(new Option('--server-config <file>', 'vantage6 server config file whose uri names the database'))
    .addOption(new Option('--lock-timeout <seconds>', 'how long to wait for another fedctl run').default(30).argParser(seconds))
    .addHelpText('after', DATABASE_HELP);
}
