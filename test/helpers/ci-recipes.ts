import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface GithubJob { steps: { run?: string }[] }
export interface GitlabJob { script?: string[] }

/** What CI does that the tests leave aside: installing fedctl (it is this checkout), posting comments, committing. */
const ASIDE = /npm install|gh |curl |apt-get|git /;

/**
 * The YAML code blocks of the docs' page on CI (docs/ci.md), in order: GitHub
 * Actions' workflow, GitLab CI's file, and the jobs added beside them (a
 * block of jobs alone, indented as in the workflow).
 */
export function ciRecipes(): { github: Record<string, GithubJob>; gitlab: Record<string, GitlabJob>; extraJobs: Record<string, GithubJob> } {
  const page = readFileSync(path.join(ROOT, 'docs', 'ci.md'), 'utf8');
  const blocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] as string) as unknown);
  const isRecord = (b: unknown): b is Record<string, unknown> => typeof b === 'object' && b !== null;
  const github = blocks.find((b): b is { jobs: Record<string, GithubJob> } => isRecord(b) && 'jobs' in b);
  const gitlab = blocks.find((b): b is Record<string, GitlabJob> => isRecord(b) && 'before_script' in b);
  assert.ok(github && gitlab, 'docs/ci.md has a GitHub Actions workflow and a GitLab CI file');
  const extraJobs = Object.assign({}, ...blocks.filter((b): b is Record<string, GithubJob> =>
    isRecord(b) && Object.values(b).every((job) => isRecord(job) && Array.isArray(job.steps))));
  return { github: github.jobs, gitlab, extraJobs };
}

/** A directory with `fedctl` on it, as `npm install --global fedctl` leaves one: this checkout's. */
export function fedctlOnPath(dir: string): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'fedctl'), `#!/bin/sh\nexec '${process.execPath}' '${path.join(ROOT, 'bin/fedctl.js')}' "$@"\n`);
  chmodSync(path.join(bin, 'fedctl'), 0o755);
  return bin;
}

/** A GitHub job's steps that run fedctl, each as Actions runs a `run:` (bash -e, pipefail); the exit code of the first that fails, with its output. */
export function runGithubJob(job: GithubJob | undefined, name: string, options: { cwd: string; env: NodeJS.ProcessEnv }): { code: number; output: string } {
  const steps = job?.steps.flatMap((step) => (step.run !== undefined && !ASIDE.test(step.run) ? [step.run] : [])) ?? [];
  assert.ok(steps.some((run) => run.includes('fedctl ')), `job ${name} runs fedctl`);
  for (const run of steps) {
    const result = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', run], { ...options, encoding: 'utf8' });
    if (result.status !== 0) return { code: result.status ?? 1, output: `${run}\n${result.stdout}${result.stderr}` };
  }
  return { code: 0, output: '' };
}

/** A GitLab job's script lines that run fedctl, each as the runner runs them (one shell, stopping at the first failure). */
export function runGitlabJob(job: GitlabJob | undefined, name: string, options: { cwd: string; env: NodeJS.ProcessEnv }): number {
  const lines = job?.script?.filter((line) => !ASIDE.test(line)) ?? [];
  assert.ok(lines.some((line) => line.includes('fedctl ')), `job ${name} runs fedctl`);
  return spawnSync('sh', ['-e', '-c', lines.join('\n')], { ...options, encoding: 'utf8' }).status ?? 1;
}
