import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openSqlite } from '../../src/db/sqlite/sqlite-driver.js';
import { EXAMPLE_CONFIG } from '../helpers/fixtures.js';
import { fedctlOnPath, ciRecipes, runGithubJob, runGitlabJob } from '../helpers/ci-recipes.js';

describe('the CI recipes of docs/ci.md, run as CI runs them (the posting steps aside)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-ci-recipes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { github, gitlab } = ciRecipes();
  // The repository a team keeps: its config in federation/, fedctl on the PATH.
  const repo = path.join(dir, 'repo');
  mkdirSync(path.join(repo, 'federation'), { recursive: true });
  for (const file of ['federation.yaml', 'encrypted.yaml']) cpSync(path.join(path.dirname(EXAMPLE_CONFIG), file), path.join(repo, 'federation', file));
  const bin = fedctlOnPath(dir);
  const database = path.join(dir, 'server.sqlite');
  const summary = path.join(dir, 'step-summary.md');
  const env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, FEDCTL_DATABASE_URL: `sqlite:///${database}`, NO_COLOR: '1',
    GITHUB_ACTIONS: 'true', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_REPOSITORY: 'hospital/federation', GITHUB_STEP_SUMMARY: summary,
  };

  const githubJob = (name: string): number => runGithubJob(github[name], name, { cwd: repo, env }).code;
  const gitlabJob = (name: string): number =>
    runGitlabJob(gitlab[name], name, { cwd: repo, env: { ...env, GITHUB_ACTIONS: '', GITLAB_CI: 'true', CI_COMMIT_SHA: 'fedcba9876543210' } });

  const file = (name: string): string => readFileSync(path.join(repo, name), 'utf8');

  it('a pull request\'s plan ends with when and at which commit it was made, and the marker its comment is found by', () => {
    assert.equal(githubJob('plan'), 0);
    const lines = file('plan.md').trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^### fedctl plan: \d+ to add, 0 to change, 0 to destroy$/);
    assert.match(lines.at(-2) ?? '', /^<sub>Planned \d{4}-\d\d-\d\d \d\d:\d\d UTC at 0123456789ab by fedctl\.<\/sub>$/);
    assert.equal(lines.at(-1), '<!-- fedctl plan: federation -->');
    assert.ok(!existsSync(database), 'a plan writes nothing');
    assert.equal(gitlabJob('plan'), 0, 'GitLab\'s plan job passes on a plan with changes');
    assert.ok(file('plan.md').includes('at fedcba987654 by fedctl.</sub>\n<!-- fedctl plan: federation -->'));
  });

  it('the main branch\'s apply writes only encrypted secrets, and the scheduled job then finds no drift', () => {
    assert.equal(githubJob('apply'), 0);
    const folder = path.join(repo, 'federation', 'fedctl-secrets');
    const written = readdirSync(folder, { recursive: true }).map(String);
    // Besides the encrypted files, only the digests of the node files' policies, which plans of later pull requests compare.
    assert.ok(written.length > 0 && written.filter((f) => f.includes('.') && f !== 'node-policies.yaml').every((f) => f.endsWith('.age')), written.join(', '));
    assert.doesNotMatch(readFileSync(path.join(folder, 'node-policies.yaml'), 'utf8'), /api_key|password/);
    assert.equal(githubJob('drift'), 0);
    assert.match(readFileSync(summary, 'utf8'), /^### fedctl plan: no changes$/m);
    assert.equal(gitlabJob('drift'), 0);
  });

  it('a change made by hand fails the scheduled job, whose plan says it was made outside fedctl; an apply ends it', () => {
    const db = openSqlite(database, { readonly: false, busyTimeoutMs: 5_000 });
    db.prepare("update organization set country = 'Nederland' where name = 'IKNL'").run([]);
    db.close();
    writeFileSync(summary, '');
    assert.equal(githubJob('drift'), 2);
    const shown = readFileSync(summary, 'utf8');
    assert.match(shown, /^### fedctl plan: 0 to add, 1 to change, 0 to destroy$/m);
    assert.match(shown, /> \[!WARNING\]\n> The database changed outside fedctl since the last apply by fedctl/);
    assert.match(shown, /country: "Nederland" -> "Netherlands"/);
    assert.equal(gitlabJob('drift'), 2);
    assert.match(file('drift.md'), /changed outside fedctl/);
    assert.equal(gitlabJob('apply'), 0);
    assert.equal(githubJob('drift'), 0);
  });
});
