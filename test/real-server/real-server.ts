import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Mailbox } from './mailbox.js';
import { v4Login, type ServerLogin } from './server-api.js';
import { serverEnvironment } from './server-environment.js';
import { freePort, startProcess, waitForAnswer } from './server-process.js';

const LAUNCHER = path.join(path.dirname(new URL(import.meta.url).pathname), 'launch-server.py');

/** A vantage6 server of one release, running on 127.0.0.1 against one database. */
export interface RealServer {
  readonly release: string;
  /** The API's base URL, e.g. `http://127.0.0.1:41234/api`. */
  readonly api: string;
  /** How its users and nodes log in. */
  readonly login: ServerLogin;
  /** The environment fedctl needs to act as the server's root account through the API. */
  readonly account: Readonly<Record<string, string>>;
  /** HQ's Keycloak, and the client a test logs users in with by password. */
  readonly keycloak?: {
    readonly url: string; readonly realm: string; readonly passwordClient: string;
    /** The Keycloak settings HQ's backend runs with, which a 5.x algorithm store beside it takes too. */
    readonly backendEnv: Readonly<Record<string, string>>;
    /** A call of Keycloak's admin REST API as its master administrator (routes below `/admin/realms`). */
    admin<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T>;
    /** The mail server the realm sends its e-mail through (invitations), and what it received. */
    readonly mailbox: Mailbox;
  };
  /** What the server printed so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

/** The `logging:` block of a vantage6 server config (4.x and HQ read the same keys). */
export function loggingConfig(extra: readonly string[] = []): string[] {
  return [
    'logging:',
    '  level: INFO',
    '  use_console: true',
    ...extra,
    '  backup_count: 1',
    '  max_size: 1024',
    "  format: '%(asctime)s - %(name)-14s - %(levelname)-8s - %(message)s'",
    "  datefmt: '%Y-%m-%d %H:%M:%S'",
    '  loggers: []',
  ];
}

/**
 * Write a server config for `database` (a SQLAlchemy URL, as fedctl takes it)
 * in `dir`, start the release's server on it as its image does, and wait
 * until it answers. Its user folders (logs) are kept in `dir`.
 */
export async function startRealServer(release: string, database: string, dir: string): Promise<RealServer> {
  const python = await serverEnvironment(release);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'server.yaml');
  writeFileSync(config, [
    'description: fedctl conformance test',
    'ip: 127.0.0.1',
    `port: ${port}`,
    'api_path: /api',
    `uri: ${JSON.stringify(database)}`,
    'allow_drop_all: false',
    `jwt_secret_key: ${JSON.stringify(`fedctl-conformance-${port}-secret-key-0123456789`)}`,
    // Algorithm stores on 127.0.0.1 are this machine's: without it the server takes 127.0.0.1 for its own container.
    'dev:',
    '  host_uri: 127.0.0.1',
    ...loggingConfig(['  file: server.log']),
    '',
  ].join('\n'));
  // The development server stops on Ctrl-C (it ignores TERM).
  const server = startProcess(python, [LAUNCHER, config, String(port)], {
    cwd: dir, env: { PATH: process.env.PATH, HOME: dir, PYTHONUNBUFFERED: '1' }, logFile: path.join(dir, 'server-console.log'), signal: 'SIGINT',
  });
  const api = `http://127.0.0.1:${port}/api`;
  await waitForAnswer(`vantage6 ${release}`, server, `${api}/version`, 120_000);
  return {
    release, api, login: v4Login(api), account: { FEDCTL_API_USERNAME: 'root', FEDCTL_API_PASSWORD: 'root' }, log: server.log, stop: server.stop,
  };
}
