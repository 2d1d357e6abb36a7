import { execFile } from 'node:child_process';
import { Agent } from 'node:http';
import got from 'got';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { dump } from 'js-yaml';
import { loggingConfig, type RealServer } from './real-server.js';
import { isHq, storeEnvironment } from './server-environment.js';
import { freePort, runModule, startProcess, waitForAnswer } from './server-process.js';

const run = promisify(execFile);

/** A vantage6 algorithm store running on 127.0.0.1, with its own database. */
export interface RealStore {
  readonly release: string;
  /** Its API's base URL, as a server links it (with the API path): `http://127.0.0.1:41234/api`. */
  readonly api: string;
  log(): string;
  stop(): Promise<void>;
}

/** The store policies its configuration file sets (the store rewrites them at every start), as its `policies:` block spells them. */
export type StorePolicies = Readonly<Record<string, unknown>>;

/**
 * Write a 4.x store's configuration for `database` in `dir`, start it as its
 * image does, and wait until it answers. `rootOf`, when given, is the server
 * (its API URL) whose `root` user the store makes its own root, whitelisting
 * that server at its first start; `policies` are its configuration's (by
 * default: whitelisted servers may view, localhost may be whitelisted, as on
 * a developer's machine).
 */
export async function startRealStore(release: string, database: string, dir: string, options: { rootOf?: string; policies?: StorePolicies } = {}): Promise<RealStore> {
  return serveStore(release, dir, {
    description: 'fedctl test store',
    api_path: '/api',
    uri: database,
    allow_drop_all: false,
    policies: { algorithm_view: 'whitelisted', allow_localhost: true, ...options.policies },
    ...(options.rootOf === undefined ? {} : { root_user: { v6_server_uri: options.rootOf, username: 'root' } }),
    // The store checks tokens with the server it names; on 127.0.0.1 it would otherwise take itself for a container.
    dev: { host_uri: '127.0.0.1' },
  }, {});
}

/**
 * A 5.x store beside HQ (`hq`, as the HQ harness started it): the same
 * Keycloak, whose tokens it trusts; its root is HQ's administrator (`admin`), or the Keycloak user `rootUser`.
 * Its image first runs `init_db` (roles and root user), then the app.
 */
export async function startRealHqStore(release: string, database: string, dir: string, hq: RealServer, policies: StorePolicies = {}, rootUser = 'admin'): Promise<RealStore> {
  if (hq.keycloak === undefined) throw new Error('a 5.x store needs HQ\'s Keycloak');
  return serveStore(release, dir, {
    api_path: '/api',
    uri: database,
    policies: { algorithm_view: 'authenticated', ...policies },
    root_user: { username: rootUser },
    directories: { log: path.join(dir, 'log'), data: path.join(dir, 'data') },
  }, hq.keycloak.backendEnv);
}

/** Write the store's configuration in `dir`, start it as its image does, and wait until it answers. */
async function serveStore(release: string, dir: string, settings: Readonly<Record<string, unknown>>, backendEnv: Readonly<Record<string, string>>): Promise<RealStore> {
  const python = await storeEnvironment(release);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const config = path.join(dir, 'store.yaml');
  writeFileSync(config, [
    dump({ ip: '127.0.0.1', port, ...settings }, { lineWidth: -1 }).trimEnd(),
    ...loggingConfig(['  file: store.log']),
    '',
  ].join('\n'));
  const env = { PATH: process.env.PATH, HOME: dir, PYTHONUNBUFFERED: '1', ...backendEnv };
  if (isHq(release)) {
    await runModule('the store\'s init_db', python, 'vantage6.algorithm.store.init_db', [config], { cwd: dir, env });
  }
  // As the store's image serves it: uwsgi with gevent on the app of the store's wsgi.py.
  const { stdout: packages } = await run(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])']);
  const wsgi = path.join(packages.trim(), 'vantage6', 'algorithm', 'store', 'wsgi.py');
  const store = startProcess(path.join(path.dirname(python), 'uwsgi'), [
    '--http', `127.0.0.1:${port}`, '--gevent', '100', '--master', '--callable', 'app', '--disable-logging', '--die-on-term',
    '--wsgi-file', wsgi, '--pyargv', config,
  ], {
    cwd: dir, env, logFile: path.join(dir, 'store-console.log'),
  });
  const api = `http://127.0.0.1:${port}/api`;
  await waitForAnswer(`vantage6 algorithm store ${release}`, store, `${api}/version`, 120_000);
  return { release, api, log: store.log, stop: store.stop };
}

const NO_KEEP_ALIVE = new Agent({ keepAlive: false });

/**
 * A call of a 4.x store's API as a user of `server` makes it: with the
 * server's token and its URL in `Server-Url`, by which the store checks the
 * token with that server. Its answer (JSON parsed, null when empty) and status.
 */
export async function storeCall<T>(store: RealStore, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', route: string, auth: { token: string; server: string } | null, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await got(`${store.api}${route}`, {
    method,
    headers: auth === null ? {} : { authorization: `Bearer ${auth.token}`, 'server-url': auth.server },
    ...(body === undefined ? {} : { json: body }),
    // The store (uwsgi, as in its image) closes every connection after its answer: each call opens its own.
    agent: { http: NO_KEEP_ALIVE },
    throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: 60_000 },
  });
  // An unknown route answers with an HTML page, not JSON.
  const json = (response.headers['content-type'] ?? '').includes('json');
  return { status: response.statusCode, body: (response.body === '' ? null : json ? JSON.parse(response.body) : response.body) as T };
}
