import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { HQ_RELEASE, STORE_RELEASES, TEST_RELEASES, checkEnvironment, checkScript, readyMark, recipeOf, type EnvironmentRecipe } from './server-environment.js';

/** Whether a release imports `vantage6.backend.common`: from 4.3 on, and 5.x (their images install it beside the server or store). */
function hasBackendCommon(release: string): boolean {
  const [major, minor] = release.split('.').map(Number) as [number, number];
  return major >= 5 || minor >= 3;
}

/** The modules a recipe's check imports. */
function modulesOf(recipe: EnvironmentRecipe): string[] {
  return recipe.packages.flatMap((p) => ('module' in p ? [p.module] : []));
}

describe('the real servers\' environments, without installing anything', () => {
  it('installs and checks the same packages for every release of a server or store the tests start', () => {
    const recipes = [...TEST_RELEASES.map((r) => recipeOf(r, 'server')), ...STORE_RELEASES.map((r) => recipeOf(r, 'store'))];
    for (const recipe of recipes) {
      const { release } = recipe;
      const requirements = recipe.packages.map((p) => p.requirement);
      const imports = checkScript(recipe).split('\n').filter((line) => line.startsWith('import ')).map((line) => line.slice('import '.length));
      assert.equal(requirements.includes(`vantage6-backend-common==${release}`), hasBackendCommon(release), `${release}: ${requirements.join(', ')}`);
      assert.equal(imports.includes('vantage6.backend.common'), hasBackendCommon(release), `${release}: ${imports.join(', ')}`);
      // Every module the check imports comes from a package installed, and every package is checked.
      assert.deepEqual(imports.slice(1), modulesOf(recipe), release);
      const programs = recipe.packages.flatMap((p) => ('executable' in p ? [p.executable] : []));
      assert.deepEqual(programs, recipe.component === 'store' ? ['uwsgi'] : [], `${release} ${recipe.component}: programs checked`);
      for (const program of programs) assert.ok(checkScript(recipe).includes(`"bin", "${program}"`));
      assert.ok(requirements[0]?.startsWith(`${recipe.distribution}==${release}`), `${release} installs its own server first`);
    }
    assert.equal(new Set(recipes.map((r) => r.folder)).size, recipes.length, 'each has a folder of its own in the cache');
    assert.deepEqual(STORE_RELEASES.map((r) => [recipeOf(r, 'store').distribution, recipeOf(r, 'store').pythonMinor]),
      [['vantage6-algorithm-store', 10], ['vantage6-algorithm-store', 13]]);
    assert.equal(recipeOf(HQ_RELEASE).distribution, 'vantage6-hq');
    assert.equal(recipeOf(HQ_RELEASE).pythonMinor, 13);
    assert.equal(recipeOf('4.0.3').pythonMinor, 10);
  });

  it('marks an environment with its packages and its check, so a change to either reaches every cache', () => {
    const recipe = recipeOf('4.0.3');
    const mark = readyMark(recipe);
    assert.notEqual(readyMark({ ...recipe, packages: recipe.packages.slice(0, -1) }), mark);
    assert.notEqual(readyMark({ ...recipe, packages: [...recipe.packages, { requirement: 'vantage6-server==4.0.3', module: 'vantage6.backend.common' }] }), mark);
    assert.notEqual(readyMark(recipeOf('4.3.4')), readyMark({ ...recipeOf('4.3.4'), distribution: 'vantage6-hq' }));
  });

  describe('checks a cached environment as a fresh install is checked', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-environment-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    /** A stand-in python that runs the check as given, with the modules a release's environment has (as empty packages). */
    function environment(name: string, modules: readonly string[], version: string): string {
      const root = path.join(dir, name);
      for (const module of modules) {
        const parts = module.split('.');
        for (let i = 1; i <= parts.length; i += 1) {
          mkdirSync(path.join(root, 'site', ...parts.slice(0, i)), { recursive: true });
          writeFileSync(path.join(root, 'site', ...parts.slice(0, i), '__init__.py'), '');
        }
      }
      const python = path.join(root, 'python');
      // The version is the one the environment's metadata would report.
      writeFileSync(python, [
        '#!/bin/sh',
        `PYTHONPATH='${path.join(root, 'site')}' PYTHONNOUSERSITE=1 exec python3 -c "import sys, importlib.metadata as m; m.version = lambda name: '${version}'; exec(sys.argv[1])" "$2"`,
        '',
      ].join('\n'));
      chmodSync(python, 0o755);
      return python;
    }

    it('passes an environment that has every module and the release', async () => {
      const recipe = recipeOf('4.3.4');
      assert.equal(await checkEnvironment(environment('whole', modulesOf(recipe), '4.3.4'), recipe), null);
    });

    it('fails one that lacks a module the check imports, naming it', async () => {
      const recipe = recipeOf('4.3.4');
      const fault = await checkEnvironment(environment('without-common', ['vantage6.server', 'psycopg2', 'pkg_resources'], '4.3.4'), recipe);
      assert.match(fault ?? 'passed', /No module named 'vantage6\.backend'/);
    });

    it('fails one of another release', async () => {
      const recipe = recipeOf('4.3.4');
      const fault = await checkEnvironment(environment('other-release', modulesOf(recipe), '4.3.3'), recipe);
      assert.equal(fault, 'installed vantage6-server 4.3.3, not 4.3.4');
    });
  });
});
