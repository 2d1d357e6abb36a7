import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serverEnvironment } from './server-environment.js';

const LAUNCHER = path.join(path.dirname(new URL(import.meta.url).pathname), 'launch-server.py');

/** A vantage6 server of one release, running on 127.0.0.1 against one database. */
export interface RealServer {
  readonly release: string;
  /** The API's base URL, e.g. `http://127.0.0.1:41234/api`. */
  readonly api: string;
  /** What the server printed so far (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
// Whatever ends the test process, no server outlives it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
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
    'logging:',
    '  level: INFO',
    '  use_console: true',
    '  file: server.log',
    '  backup_count: 1',
    '  max_size: 1024',
    "  format: '%(asctime)s - %(name)-14s - %(levelname)-8s - %(message)s'",
    "  datefmt: '%Y-%m-%d %H:%M:%S'",
    '  loggers: []',
    '',
  ].join('\n'));
  const logFile = path.join(dir, 'server-console.log');
  const out = createWriteStream(logFile);
  const child = spawn(python, [LAUNCHER, config, String(port)], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => {
    running.delete(child);
    resolve();
  }));
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (!running.has(child)) return;
    // The development server stops on Ctrl-C (it ignores TERM); a kill when it does not.
    child.kill('SIGINT');
    const killed = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!killed) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const api = `http://127.0.0.1:${port}/api`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (!running.has(child)) throw new Error(`vantage6 ${release} stopped while starting:\n${log().slice(-4000)}`);
    try {
      const response = await fetch(`${api}/version`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`vantage6 ${release} did not answer within 120 s:\n${log().slice(-4000)}`);
    }
    await sleep(250);
  }
  return { release, api, log, stop };
}
