import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { parse } from 'yaml';
import { EXAMPLE_CONFIG } from '../helpers/fixtures.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const BIN = path.join(ROOT, 'bin/fedctl.js');

/** The YAML code blocks of the README's section on CI, in order: GitHub Actions', then GitLab CI's. */
function recipes(): { github: GithubWorkflow; gitlab: Record<string, GitlabJob> } {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using fedctl in CI'), readme.indexOf('\n## ', readme.indexOf('## Using fedctl in CI') + 1));
  const blocks = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] as string) as unknown);
  const github = blocks.find((b): b is GithubWorkflow => typeof b === 'object' && b !== null && 'jobs' in b);
  const gitlab = blocks.find((b): b is Record<string, GitlabJob> => typeof b === 'object' && b !== null && 'before_script' in b);
  assert.ok(github && gitlab, 'the README has a GitHub Actions workflow and a GitLab CI file');
  return { github, gitlab };
}

interface GithubWorkflow { jobs: Record<string, { steps: { run?: string }[] }> }
interface GitlabJob { script?: string[] }

/** What CI does that this test leaves aside: installing fedctl (it is this checkout), posting comments, committing. */
const ASIDE = /npm install|gh |curl |apt-get|git /;

describe('the README\'s CI recipes, run as CI runs them (the posting steps aside)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fedctl-ci-recipes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { github, gitlab } = recipes();
  // The repository a team keeps: its config in federation/, fedctl on the PATH.
  const repo = path.join(dir, 'repo');
  mkdirSync(path.join(repo, 'federation'), { recursive: true });
  for (const file of ['federation.yaml', 'encrypted.yaml']) cpSync(path.join(path.dirname(EXAMPLE_CONFIG), file), path.join(repo, 'federation', file));
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(path.join(bin, 'fedctl'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(path.join(bin, 'fedctl'), 0o755);
  const database = path.join(dir, 'server.sqlite');
  const summary = path.join(dir, 'step-summary.md');
  const env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, FEDCTL_DATABASE_URL: `sqlite:///${database}`, NO_COLOR: '1',
    GITHUB_ACTIONS: 'true', GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567', GITHUB_REPOSITORY: 'hospital/federation', GITHUB_STEP_SUMMARY: summary,
  };

  /** A GitHub job's steps that run fedctl, each as Actions runs a `run:` (bash -e, pipefail); the exit code of the first that fails. */
  function githubJob(name: string): number {
    const steps = github.jobs[name]?.steps.flatMap((step) => (step.run !== undefined && !ASIDE.test(step.run) ? [step.run] : [])) ?? [];
    assert.ok(steps.some((run) => run.includes('fedctl ')), `job ${name} runs fedctl`);
    for (const run of steps) {
      const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', run], { cwd: repo, env, encoding: 'utf8' });
      if (result.status !== 0) return result.status ?? 1;
    }
    return 0;
  }

  /** A GitLab job's script lines that run fedctl, each as the runner runs them (one shell, stopping at the first failure). */
  function gitlabJob(name: string): number {
    const lines = gitlab[name]?.script?.filter((line) => !ASIDE.test(line)) ?? [];
    assert.ok(lines.some((line) => line.includes('fedctl ')), `job ${name} runs fedctl`);
    const result = spawnSync('sh', ['-e', '-c', lines.join('\n')], { cwd: repo, env: { ...env, GITHUB_ACTIONS: '', GITLAB_CI: 'true', CI_COMMIT_SHA: 'fedcba9876543210' }, encoding: 'utf8' });
    return result.status ?? 1;
  }

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
    const db = new Database(database);
    db.prepare("update organization set country = 'Nederland' where name = 'IKNL'").run();
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
