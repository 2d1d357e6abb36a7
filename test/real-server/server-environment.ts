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

/** The algorithm stores the tests start beside a server: the newest of each line. */
export const STORE_RELEASES: readonly string[] = ['4.15.2', '5.0.3'];

/** What a test runs of vantage6: its central server (4.x, or 5's HQ), or an algorithm store. */
export type Component = 'server' | 'store';

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
 * One package a release's environment installs, and what proves it is there
 * and works: the module the check imports, or for a program (uwsgi, whose
 * module exists only inside it) its executable in the environment.
 */
export type EnvironmentPackage =
  | { readonly requirement: string; readonly module: string }
  | { readonly requirement: string; readonly executable: string };

/**
 * How a release's environment is made and checked, from one list: each
 * package brings the module the check imports, so the install and the check
 * cannot disagree (a check importing what was never installed failed only on
 * machines without an older cache).
 */
export interface EnvironmentRecipe {
  readonly component: Component;
  readonly release: string;
  /** Its folder in the cache. */
  readonly folder: string;
  /** The minimum Python 3 minor version: the one its image runs. */
  readonly pythonMinor: number;
  /** The distribution whose installed version must be `release`. */
  readonly distribution: 'vantage6-server' | 'vantage6-hq' | 'vantage6-algorithm-store';
  readonly packages: readonly EnvironmentPackage[];
}

/**
 * What a release of a component needs from PyPI: the component, the package
 * its Docker image adds beside it (from 4.3 on, servers and stores import
 * `vantage6.backend.common` without declaring it), the PostgreSQL driver the
 * image has, for HQ the mail server its tests' Keycloak sends to, and on 4.x a setuptools that still has `pkg_resources`
 * (pyfiglet, which 4.x imports, needs it; setuptools 81 removed it). The
 * Python is the image's: 3.10 for 4.x (the first the machine has from
 * there), 3.13 for 5.x, which declares it.
 */
export function recipeOf(release: string, component: Component = 'server'): EnvironmentRecipe {
  const backendCommon = { requirement: `vantage6-backend-common==${release}`, module: 'vantage6.backend.common' };
  const postgres = { requirement: 'psycopg2-binary==2.9.10', module: 'psycopg2' };
  const [distribution, module] = component === 'store' ? ['vantage6-algorithm-store', 'vantage6.algorithm.store'] as const
    : isHq(release) ? ['vantage6-hq', 'vantage6.hq'] as const : ['vantage6-server', 'vantage6.server'] as const;
  const own = { requirement: `${distribution}==${release}`, module };
  const folder = component === 'store' ? `store-${release}` : release;
  // A store's image serves it with uwsgi, which (unlike Flask's and gevent's servers) passes on the `server_url` header 4.x servers send.
  const served = component === 'store' ? [{ requirement: 'uwsgi==2.0.31', executable: 'uwsgi' }] : [];
  if (isHq(release)) {
    // HQ's Keycloak e-mails invitations: the tests' mail server, aiosmtpd, runs from HQ's environment.
    const mail = component === 'server' ? [{ requirement: 'aiosmtpd==1.4.6', module: 'aiosmtpd' }] : [];
    return { component, release, folder, pythonMinor: 13, distribution, packages: [own, backendCommon, postgres, ...served, ...mail] };
  }
  const minor = Number(release.split('.')[1]);
  return {
    component, release, folder, pythonMinor: 10, distribution,
    packages: [own, ...(minor >= 3 ? [backendCommon] : []), postgres, { requirement: 'setuptools<81', module: 'pkg_resources' }, ...served],
  };
}

/** The check of an environment, as Python: import every package's module, find every program, print the distribution's version. */
export function checkScript(recipe: EnvironmentRecipe): string {
  return [
    'import importlib.metadata, os, sys',
    ...recipe.packages.map((p) => ('module' in p ? `import ${p.module}`
      : `assert os.access(os.path.join(sys.prefix, "bin", ${JSON.stringify(p.executable)}), os.X_OK), "no ${p.executable} in the environment"`)),
    `print(importlib.metadata.version(${JSON.stringify(recipe.distribution)}))`,
  ].join('\n');
}

/** The mark a finished environment carries: what was installed and how it is checked, so a change to either rebuilds it. */
export function readyMark(recipe: EnvironmentRecipe): string {
  return `${JSON.stringify({ packages: recipe.packages.map((p) => p.requirement), check: checkScript(recipe) }, null, 2)}\n`;
}

/**
 * Run the recipe's check with an environment's python: null when it passes,
 * else why not. The same check a fresh install must pass, made again on
 * every use of a cached one (a few seconds: it imports the server), since a cache is no proof.
 */
export async function checkEnvironment(python: string, recipe: EnvironmentRecipe): Promise<string | null> {
  try {
    const { stdout } = await run(python, ['-c', checkScript(recipe)], { timeout: 120_000 });
    return stdout.trim() === recipe.release ? null : `installed ${recipe.distribution} ${stdout.trim()}, not ${recipe.release}`;
  } catch (error) {
    const output = (error as { stderr?: string }).stderr ?? '';
    return `${(error as Error).message.split('\n')[0]}${output ? `\n${output.slice(-2000)}` : ''}`;
  }
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

/** A file's text, or null when it cannot be read. */
export function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Each release's environment as this process found or made it: checked once per process. */
const checked = new Map<string, Promise<string>>();

/**
 * The virtual environment of a release, created on first use: built in a
 * folder of its own, checked, then renamed into place, so that a failed or
 * partial install is never taken for a cached one. A cached one is used only
 * when its mark is this recipe's and it passes the same check again; else it
 * is built anew. Returns its python.
 */
export function serverEnvironment(release: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return componentEnvironment(recipeOf(release, 'server'), env);
}

/** The virtual environment of an algorithm store's release, as `serverEnvironment`. */
export function storeEnvironment(release: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return componentEnvironment(recipeOf(release, 'store'), env);
}

function componentEnvironment(recipe: EnvironmentRecipe, env: NodeJS.ProcessEnv): Promise<string> {
  const key = `${environmentCache(env)}\0${recipe.folder}`;
  let environment = checked.get(key);
  if (environment === undefined) {
    environment = soundEnvironment(recipe, env);
    // A failure is not remembered: the next caller tries again.
    environment.catch(() => checked.delete(key));
    checked.set(key, environment);
  }
  return environment;
}

async function soundEnvironment(recipe: EnvironmentRecipe, env: NodeJS.ProcessEnv): Promise<string> {
  const ready = path.join(environmentCache(env), recipe.folder);
  const python = path.join(ready, 'bin', 'python');
  if (readIfExists(path.join(ready, READY)) === readyMark(recipe)) {
    const failure = await checkEnvironment(python, recipe);
    if (failure === null) return python;
    process.stderr.write(`${recipe.distribution} ${recipe.release}: the cached environment fails its check, installing it anew (${failure.split('\n')[0]})\n`);
  }
  return buildEnvironment(recipe, env);
}

async function buildEnvironment(recipe: EnvironmentRecipe, env: NodeJS.ProcessEnv): Promise<string> {
  const cache = environmentCache(env);
  const ready = path.join(cache, recipe.folder);
  const python = path.join(ready, 'bin', 'python');
  const mark = readyMark(recipe);
  const requirements = recipe.packages.map((p) => p.requirement);
  mkdirSync(cache, { recursive: true });
  for (const name of readdirSync(cache)) {
    const partial = /^\.(.+)\.partial-(\d+)-[0-9a-f]+$/.exec(name);
    // Left by a run that no longer runs: debris.
    if (partial && !isProcessRunning(Number(partial[2]))) rmSync(path.join(cache, name), { recursive: true, force: true });
  }
  const base = await findPython(recipe.pythonMinor, env);
  if (base === null) throw new Error(`no Python 3.${recipe.pythonMinor} or newer on this machine (set FEDCTL_PYTHON to one)`);
  const building = path.join(cache, `.${recipe.folder}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await run(base, ['-m', 'venv', building]);
    const pip = [path.join(building, 'bin', 'python'), '-m', 'pip', '--disable-pip-version-check', '--no-input', '-q'] as const;
    await run(pip[0], [...pip.slice(1), 'install', ...requirements], { maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60_000 });
    const failure = await checkEnvironment(path.join(building, 'bin', 'python'), recipe);
    if (failure !== null) throw new Error(failure);
    writeFileSync(path.join(building, READY), mark);
    // A folder without this mark (or failing the check) is what an older run left half-made, or made otherwise.
    if (existsSync(ready)) rmSync(ready, { recursive: true, force: true });
    try {
      renameSync(building, ready);
    } catch (error) {
      // Another run finished the same release first: use its environment.
      if (readIfExists(path.join(ready, READY)) !== mark) throw error;
      rmSync(building, { recursive: true, force: true });
    }
    return python;
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    const output = (error as { stderr?: string }).stderr;
    const detail = output ? `${(error as Error).message.split('\n')[0]}\n${output.slice(-2000)}` : (error as Error).message;
    throw new Error(`cannot install ${requirements[0]} from PyPI: ${detail}`);
  }
}
