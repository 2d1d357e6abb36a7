import { resolveDatabase, type DatabaseOptions } from '../db/resolve-database.js';
import { FedctlError } from '../errors.js';
import type { Backend } from './backend.js';
import { DatabaseBackend } from './database/database-backend.js';

export interface BackendOptions extends DatabaseOptions {
  /** `--server URL`: the server's REST API instead of its database. */
  readonly server?: string;
}

/** Where fedctl reaches the server; `byDefault` when nothing said (the embedded SQLite file), so that the config may. */
export type BackendChoice =
  | { readonly kind: 'database'; readonly backend: DatabaseBackend; readonly byDefault: boolean }
  | { readonly kind: 'api'; readonly url: string; readonly source: '--server' | 'FEDCTL_SERVER_URL' | 'the config\'s server: block' | 'the saved plan' | '--compare-with' };

/**
 * The way in the flags and environment name: `--database` or `--server`,
 * else `FEDCTL_DATABASE_URL` or `FEDCTL_SERVER_URL`, else `--server-config`,
 * else the embedded default database. Two ways named at one level is an error.
 */
export function chooseBackend(options: BackendOptions, env: NodeJS.ProcessEnv, cwd: string): BackendChoice {
  if (options.database && options.server) {
    throw new FedctlError('BACKEND_AMBIGUOUS', '--database and --server name two ways to reach the server', 'give one of them');
  }
  if (options.server) return { kind: 'api', url: options.server, source: '--server' };
  if (!options.database && env.FEDCTL_SERVER_URL) {
    if (env.FEDCTL_DATABASE_URL) {
      throw new FedctlError('BACKEND_AMBIGUOUS', 'FEDCTL_DATABASE_URL and FEDCTL_SERVER_URL are both set',
        'unset one of them, or choose with --database or --server');
    }
    return { kind: 'api', url: env.FEDCTL_SERVER_URL, source: 'FEDCTL_SERVER_URL' };
  }
  const resolved = resolveDatabase(options, env, cwd);
  return { kind: 'database', backend: new DatabaseBackend(resolved.target), byDefault: resolved.isDefault };
}

/** Another server named by one URL (`--compare-with`): its API (http, https), else its database. */
export function chooseOther(url: string, cwd: string): BackendChoice {
  if (/^https?:\/\//i.test(url)) return { kind: 'api', url, source: '--compare-with' };
  return chooseBackend({ database: url }, {}, cwd);
}

/** The config's `server: { manage: api }` wins over the embedded default only: a flag or variable names the way in first. */
export function withConfigChoice(choice: BackendChoice, configApi: string | null): BackendChoice {
  return choice.kind === 'database' && choice.byDefault && configApi !== null
    ? { kind: 'api', url: configApi, source: 'the config\'s server: block' }
    : choice;
}

/** The database of a choice, for what only a database has (the schema `init` creates, the history table); else an error saying so. */
export function requireDatabase(choice: BackendChoice, what: string): DatabaseBackend {
  if (choice.kind === 'database') return choice.backend;
  throw new FedctlError('BACKEND_UNSUPPORTED', `${what} needs the server's database, and ${choice.source} names its API`,
    'give --database (or FEDCTL_DATABASE_URL) instead');
}

/** Who hashes the keys and passwords stored through a way in, known before connecting: fedctl into a database, the server through its API. */
export function hashingOf(choice: BackendChoice): 'fedctl' | 'server' {
  return choice.kind === 'database' ? choice.backend.capabilities.hashing : 'server';
}

/** Open the chosen backend; the API's modules load only when it is used. */
export async function openBackend(choice: BackendChoice, env: NodeJS.ProcessEnv): Promise<Backend> {
  if (choice.kind === 'database') return choice.backend;
  const { connectApi } = await import('./api/api-backend.js');
  return connectApi(choice.url, env);
}
