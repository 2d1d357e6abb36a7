import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { FedctlError, messageOf } from '../errors.js';
import { DEFAULT_DATABASE_URL, parseDatabaseUrl, type DatabaseTarget } from './database-url.js';

export interface DatabaseOptions {
  /** `--database URL` */
  readonly database?: string;
  /** `--server-config FILE`: a vantage6 server config whose `uri` names the database. */
  readonly serverConfig?: string;
}

/** Where the database came from, for messages. */
export type DatabaseSource = '--database' | 'FEDCTL_DATABASE_URL' | '--server-config' | 'VANTAGE6_DB_URI' | 'default';

export interface ResolvedDatabase {
  readonly target: DatabaseTarget;
  readonly source: DatabaseSource;
  /** True for the embedded default, which apply may initialise on first use. */
  readonly isDefault: boolean;
}

/**
 * Pick the database: `--database`, else FEDCTL_DATABASE_URL, else the
 * server config's `uri` (VANTAGE6_DB_URI overriding it, as in the server),
 * else the embedded default SQLite file in the working directory.
 */
export function resolveDatabase(options: DatabaseOptions, env: NodeJS.ProcessEnv, cwd: string): ResolvedDatabase {
  if (options.database) return { target: parseDatabaseUrl(options.database, cwd), source: '--database', isDefault: false };
  const fromEnv = env.FEDCTL_DATABASE_URL;
  if (fromEnv) return { target: parseDatabaseUrl(fromEnv, cwd), source: 'FEDCTL_DATABASE_URL', isDefault: false };
  if (options.serverConfig) {
    const dataDir = serverDataDir(options.serverConfig);
    const override = env.VANTAGE6_DB_URI;
    if (override) return { target: parseDatabaseUrl(override, dataDir), source: 'VANTAGE6_DB_URI', isDefault: false };
    return { target: parseDatabaseUrl(readServerUri(options.serverConfig), dataDir), source: '--server-config', isDefault: false };
  }
  return { target: parseDatabaseUrl(DEFAULT_DATABASE_URL, cwd), source: 'default', isDefault: true };
}

function readServerUri(file: string): string {
  let config: unknown;
  try {
    config = load(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new FedctlError('SERVER_CONFIG_INVALID', `cannot read vantage6 server config ${file}: ${messageOf(error).split('\n')[0]}`);
  }
  const uri = config !== null && typeof config === 'object' ? (config as Record<string, unknown>).uri : undefined;
  if (typeof uri !== 'string' || uri === '') {
    throw new FedctlError('SERVER_CONFIG_INVALID', `vantage6 server config ${file} has no top-level "uri"`,
      'add uri: postgresql://user:password@host:5432/database, or pass --database');
  }
  return uri;
}

/**
 * The folder a relative SQLite `uri` is resolved against, as the vantage6 CLI
 * does: the server's data folder for configs in the standard user or system
 * folders, else the config file's own folder.
 */
function serverDataDir(configFile: string): string {
  const absolute = path.resolve(configFile);
  const name = path.basename(absolute).replace(/\.ya?ml$/i, '');
  const folder = path.dirname(absolute);
  if (folder === path.join(os.homedir(), '.config', 'vantage6', 'server')) {
    return path.join(os.homedir(), '.local', 'share', 'vantage6', 'server', name);
  }
  if (folder.startsWith(path.join('/etc', 'vantage6', 'server'))) {
    return path.join('/usr/local/share/vantage6/server', name);
  }
  return folder;
}
