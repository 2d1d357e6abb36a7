import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isProcessRunning } from '../../src/process-running.js';

const run = promisify(execFile);

/** vantage6 5 (HQ): a different package, a newer Python, and Keycloak beside it. */
export const HQ_RELEASE = '5.0.3';

/** The releases the conformance tests run: the newest patch of each minor the issue names. */
export const CONFORMANCE_RELEASES = ['4.0.3', '4.3.4', '4.8.2', '4.10.2', '4.14.0', '4.15.2'] as const;
export type ConformanceRelease = (typeof CONFORMANCE_RELEASES)[number];

/** Every release a test starts: the conformance releases, 4.3.0, whose login refuses a username with a dot, and HQ. */
export const TEST_RELEASES: readonly string[] = [...CONFORMANCE_RELEASES, '4.3.0', HQ_RELEASE];

/**
 * Where the virtual environments live between runs: outside the clone, so a
 * fresh clone on the same machine (CI) reuses them.
 */
export function environmentCache(env: NodeJS.ProcessEnv = process.env): string {
  return env.FEDCTL_VANTAGE6_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'fedctl', 'vantage6');
}

/** Whether a release is vantage6 5's HQ rather than a 4.x server. */
export function isHq(release: string): boolean {
  return release.startsWith('5.');
}

/**
 * What a release needs from PyPI: its server, the package its Docker image
 * adds beside it (4.3 and later, and HQ, import `vantage6.backend.common`
 * without declaring it), the PostgreSQL driver the image has, and on 4.x a
 * setuptools that still has `pkg_resources` (pyfiglet, which the 4.x server
 * imports, needs it; setuptools 81 removed it).
 */
export function packagesOf(release: string): string[] {
  if (isHq(release)) return [`vantage6-hq==${release}`, `vantage6-backend-common==${release}`, 'psycopg2-binary==2.9.10'];
  const minor = Number(release.split('.')[1]);
  return [
    `vantage6-server==${release}`, ...(minor >= 3 ? [`vantage6-backend-common==${release}`] : []),
    'psycopg2-binary==2.9.10', 'setuptools<81',
  ];
}

/** The Python a release's image runs: 3.10 for 4.x (the first the machine has from there), 3.13 for HQ, which declares it. */
function pythonOf(release: string): number {
  return isHq(release) ? 13 : 10;
}

const READY = '.fedctl-ready';

/** A Python 3.`minor` or newer of the machine, the oldest such first (the images' own). */
export async function findPython(minor = 10, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const pyenv = path.join(env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv'), 'versions');
  const fromPyenv = (wanted: number): string[] => (existsSync(pyenv) ? readdirSync(pyenv) : [])
    .filter((name) => name.startsWith(`3.${wanted}.`)).sort().reverse().map((name) => path.join(pyenv, name, 'bin', 'python3'));
  const candidates = [
    ...(env.FEDCTL_PYTHON ? [env.FEDCTL_PYTHON] : []),
    ...[10, 11, 12, 13, 14].filter((m) => m >= minor).flatMap((m) => [`python3.${m}`, ...fromPyenv(m)]),
    'python3',
  ];
  for (const candidate of candidates) {
    try {
      const { stdout } = await run(candidate, ['-c', `import sys, venv; print(sys.version_info >= (3, ${minor}))`]);
      if (stdout.trim() === 'True') return candidate;
    } catch {
      // Not there, or not usable: the next one.
    }
  }
  return null;
}

function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * The virtual environment of a release, created on first use: built in a
 * folder of its own, checked, then renamed into place, so that a failed or
 * partial install is never taken for a cached one. Returns its python.
 */
export async function serverEnvironment(release: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const cache = environmentCache(env);
  const ready = path.join(cache, release);
  const python = path.join(ready, 'bin', 'python');
  const wanted = `${packagesOf(release).join('\n')}\n`;
  // Built with the packages asked for now: a change to the list rebuilds it.
  if (readIfExists(path.join(ready, READY)) === wanted) return python;
  mkdirSync(cache, { recursive: true });
  for (const name of readdirSync(cache)) {
    const partial = /^\.(.+)\.partial-(\d+)-[0-9a-f]+$/.exec(name);
    // Left by a run that no longer runs: debris.
    if (partial && !isProcessRunning(Number(partial[2]))) rmSync(path.join(cache, name), { recursive: true, force: true });
  }
  // A folder without the mark (or another one) is what an older run left half-made, or made otherwise.
  if (existsSync(ready)) rmSync(ready, { recursive: true, force: true });
  const base = await findPython(pythonOf(release), env);
  if (base === null) throw new Error(`no Python 3.${pythonOf(release)} or newer on this machine (set FEDCTL_PYTHON to one)`);
  const building = path.join(cache, `.${release}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await run(base, ['-m', 'venv', building]);
    const pip = [path.join(building, 'bin', 'python'), '-m', 'pip', '--disable-pip-version-check', '--no-input', '-q'] as const;
    await run(pip[0], [...pip.slice(1), 'install', ...packagesOf(release)], { maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 });
    const product = isHq(release) ? 'hq' : 'server';
    const { stdout } = await run(path.join(building, 'bin', 'python'), ['-c',
      `import psycopg2, vantage6.${product}, vantage6.backend.common, importlib.metadata as m; print(m.version("vantage6-${product}"))`]);
    if (stdout.trim() !== release) throw new Error(`installed vantage6-${product} ${stdout.trim()}, not ${release}`);
    writeFileSync(path.join(building, READY), wanted);
    try {
      renameSync(building, ready);
    } catch (error) {
      // Another run finished the same release first: use its environment.
      if (readIfExists(path.join(ready, READY)) !== wanted) throw error;
      rmSync(building, { recursive: true, force: true });
    }
    return python;
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    const output = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`cannot install ${packagesOf(release)[0]} from PyPI: ${(error as Error).message.split('\n')[0]}${output ? `\n${output.slice(-2000)}` : ''}`);
  }
}
