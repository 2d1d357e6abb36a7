import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/** A server process a test started: what it printed, and a stop that always ends it. */
export interface ServerProcess {
  /** What it printed so far (for a failing test's message). */
  log(): string;
  running(): boolean;
  /** `signal` first (the servers' own way to stop), a kill when it does not end within `graceMs`. */
  stop(): Promise<void>;
  /** Resolves with the exit code when it ends. */
  readonly exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();
// Whatever ends the test process, no server outlives it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Start `command` with exactly `env` (nothing of the test's own environment leaks in), its output to `logFile`. */
export function startProcess(command: string, args: readonly string[], options: {
  readonly cwd: string; readonly env: NodeJS.ProcessEnv; readonly logFile: string; readonly signal?: NodeJS.Signals; readonly graceMs?: number;
}): ServerProcess {
  const out = createWriteStream(options.logFile);
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  const log = (): string => {
    try {
      return readFileSync(options.logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (!running.has(child)) return;
    child.kill(options.signal ?? 'SIGTERM');
    const ended = await Promise.race([exited.then(() => true), sleep(options.graceMs ?? 3000).then(() => false)]);
    if (!ended) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return { log, running: () => running.has(child), stop, exited };
}

/** Wait until `url` answers 200, or fail with the end of the process's log; the process is stopped on failure. */
export async function waitForAnswer(what: string, process: ServerProcess, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!process.running()) throw new Error(`${what} stopped while starting:\n${process.log().slice(-4000)}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await process.stop();
      throw new Error(`${what} did not answer within ${timeoutMs / 1000} s:\n${process.log().slice(-4000)}`);
    }
    await sleep(250);
  }
}

/**
 * Run a Python module of a component to its end, as its image does before
 * starting it (`init_db`: tables, built-in roles, root user); a failure says
 * `what` failed, with the end of what it printed.
 */
export async function runModule(what: string, python: string, module: string, args: readonly string[], options: { readonly cwd: string; readonly env: NodeJS.ProcessEnv }): Promise<void> {
  await promisify(execFile)(python, ['-m', module, ...args], { ...options, maxBuffer: 16 * 1024 * 1024 }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`${what} failed:\n${`${error.stdout ?? ''}${error.stderr ?? ''}`.slice(-4000)}`);
  });
}
