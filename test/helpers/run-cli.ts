import { spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { main } from '../../src/cli/main.js';

/** fedctl's executable, for tests that run it as its own process (to kill it, or to see what a user's shell sees). */
export const FEDCTL_BIN = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../bin/fedctl.js');

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run fedctl in-process, as the bin does, with captured output; stdout is a terminal only when `tty` says so. */
export async function runCli(argv: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; tty?: boolean }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end();
  const code = await main(argv, {
    stdout: { write: (text: string) => { stdout += text; return true; }, isTTY: options.tty ?? false },
    stderr: { write: (text: string) => { stderr += text; return true; }, isTTY: false },
    stdin,
    env: { ...(options.env ?? {}) },
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}

/**
 * Run fedctl as its own process and kill it (SIGKILL, as a CI runner or an
 * out-of-memory killer does) as soon as `reached` holds, asked every few
 * milliseconds. Says whether it was killed or had ended before.
 */
export async function killFedctlWhen(argv: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }, reached: () => boolean | Promise<boolean>): Promise<boolean> {
  const child = spawn(process.execPath, [FEDCTL_BIN, ...argv], { cwd: options.cwd, env: { PATH: process.env.PATH, ...options.env }, stdio: 'ignore' });
  let running = true;
  const exited = new Promise<void>((resolve) => child.on('exit', () => { running = false; resolve(); }));
  while (running && !(await reached())) await sleep(10);
  const killed = running;
  child.kill('SIGKILL');
  await exited;
  return killed;
}
